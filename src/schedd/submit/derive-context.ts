/** What a derivation (one group of job attributes) sees while it computes its attributes. */
import type { DirEntry } from "./queue-statement.js";

export interface ResourceDefaults {
  /** `RequestCpus` when `request_cpus` is not given. */
  readonly cpus: number;
  /** `RequestMemory` (MiB) when `request_memory` is not given. */
  readonly memoryMiB: number;
  /** `RequestDisk` (KiB) when `request_disk` is not given. */
  readonly diskKiB: number;
}

/** The fixed inputs of a compile: who submits, where, when, and the injected file access. */
export interface CompileEnv {
  readonly file: string;
  /** Directory relative paths are resolved against (condor_submit's working directory). */
  readonly cwd: string;
  readonly owner: string;
  readonly clusterId: number;
  /** Submit time, seconds since the epoch (`QDate`, `EnteredCurrentStatus`). */
  readonly now: number;
  /** Overrides `batch_name` (the `-batch-name` option). */
  readonly batchName?: string;
  readonly readFile?: (path: string) => string | undefined;
  readonly listDir?: (path: string) => readonly DirEntry[] | undefined;
  /** Whether a file exists; without it the executable is not checked. */
  readonly fileExists?: (path: string) => boolean;
  /** Whether a path is a symbolic link; without it links are not looked for. */
  readonly isSymlink?: (path: string) => boolean;
  /** The submitter's environment, for `getenv` and `$ENV(NAME)`. */
  readonly environ?: Readonly<Record<string, string | undefined>>;
  /** The submitter's uid, for `use_x509userproxy`'s default `/tmp/x509up_u<uid>`. */
  readonly uid?: number;
  readonly defaults: ResourceDefaults;
}

export interface DeriveContext {
  readonly env: CompileEnv;
  /** The macro-expanded, trimmed value of a command; undefined when unset or unexpandable. */
  value(key: string): string | undefined;
  /** Whether the command appears above the queue statement at all. */
  isSet(key: string): boolean;
  /** Add an attribute (expression text, new syntax). */
  emit(name: string, text: string): void;
  /** Report an error on the line of command `key` (null: the queue statement's line). */
  fail(key: string | null, message: string): void;
  /** The value of `key` checked as a ClassAd expression: its text, or undefined after fail(). */
  expression(key: string, text: string): string | undefined;
  /** Cached `env.fileExists`; true when no checker was injected. */
  exists(path: string): boolean;
}

/** One group of attributes computed from a few commands. */
export interface Derivation {
  /** Lower-case command keys it reads; it is recomputed per job when any of them is. */
  readonly inputs: readonly string[];
  /** Always computed per job (ProcId). */
  readonly perJob?: boolean;
  derive(ctx: DeriveContext, procId: number): void;
}
