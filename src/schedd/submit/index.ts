/**
 * PLACEHOLDER for the submit language. The real `compileSubmit` is written on the `submit`
 * branch and replaces this file at merge; only its signature is relied upon here. This stand-in
 * understands just a trivial form, enough for the schedd's CLI tests: `executable`, `arguments`,
 * `request_cpus`, `request_memory`, `request_disk`, `requirements`, `priority`, `transfer_input_files`,
 * `output`, `error`, `+Attr = expr`, comments, and a final `queue` or `queue N`.
 */
import { isAbsolute, join } from "node:path";
import { parseExpression } from "../../classad/index.js";

export interface SubmitOptions {
  file: string;
  cwd: string;
  owner: string;
  clusterId: number;
  /** Seconds since the epoch. */
  now: number;
}

export interface SubmitError {
  file: string;
  line: number;
  message: string;
}

export type SubmitOutcome =
  { ok: true; jobs: Map<string, string>[] } | { ok: false; errors: SubmitError[] };

const str = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function compileSubmit(text: string, opts: SubmitOptions): SubmitOutcome {
  const base = new Map<string, string>();
  const errors: SubmitError[] = [];
  let count: number | undefined;
  const err = (line: number, message: string) => errors.push({ file: opts.file, line, message });
  const path = (p: string) => (isAbsolute(p) ? p : join(opts.cwd, p));
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === "" || line.startsWith("#")) return;
    const q = /^queue(?:\s+(\d+))?$/i.exec(line);
    if (q) {
      count = Number(q[1] ?? 1);
      return;
    }
    const m = /^(\+?[A-Za-z_][\w.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) return err(n, `cannot parse '${line}'`);
    const key = m[1]!;
    const value = m[2]!;
    const set = (attr: string, expr: string) => {
      try {
        parseExpression(expr);
        base.set(attr, expr);
      } catch (e) {
        err(n, `bad expression for ${key}: ${(e as Error).message}`);
      }
    };
    if (key.startsWith("+")) return set(key.slice(1), value);
    switch (key.toLowerCase()) {
      case "executable":
        return set("Cmd", str(path(value)));
      case "arguments":
        return set("Arguments", str(value));
      case "request_cpus":
        return set("RequestCpus", value);
      case "request_memory":
        return set("RequestMemory", value);
      case "request_disk":
        return set("RequestDisk", value);
      case "requirements":
        return set("Requirements", value);
      case "priority":
        return set("JobPrio", value);
      case "output":
        return set("Out", str(value));
      case "error":
        return set("Err", str(value));
      case "transfer_input_files":
        return set("TransferInput", str(value));
      default:
        return err(n, `unknown command '${key}' (this placeholder knows only a few)`);
    }
  });
  if (count === undefined) err(text.split("\n").length, "no queue statement");
  if (!base.has("Cmd")) err(1, "no executable given");
  if (errors.length > 0) return { ok: false, errors };
  base.set("Iwd", str(opts.cwd));
  base.set("Owner", str(opts.owner));
  base.set("JobStatus", "1");
  if (!base.has("RequestCpus")) base.set("RequestCpus", "1");
  if (!base.has("Requirements")) base.set("Requirements", "TARGET.Cpus >= RequestCpus");
  const jobs = Array.from({ length: count! }, (_, proc) => {
    const job = new Map([
      ["ClusterId", String(opts.clusterId)],
      ["ProcId", String(proc)],
    ]);
    for (const [k, v] of base) job.set(k, v);
    return job;
  });
  return { ok: true, jobs };
}
