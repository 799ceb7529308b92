/** Run the built `updraft` command (bin/updraft.js over dist/) as a user would. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function updraft(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run and insist on exit 0, showing stderr otherwise. */
export function updraftOk(args: string[], env: Record<string, string | undefined> = {}): string {
  const r = updraft(args, env);
  if (r.status !== 0) {
    throw new Error(`updraft ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}
