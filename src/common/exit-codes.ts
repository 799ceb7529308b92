/**
 * Exit codes of the `updraft` command and its daemons, from sysexits(3), which service managers
 * and HTCondor's own tools read: a supervisor does not restart a daemon that exited with
 * `config`, since it would only fail again.
 */
export const EXIT = {
  ok: 0,
  /** The command failed; its message says why (no such job, refused, ...). */
  failure: 1,
  /** The input data is wrong (a file in the staging folder a pilot would refuse). */
  dataErr: 65,
  /** A service the command needs is unavailable (the npm registry for `factory stage`). */
  unavailable: 69,
  /** A bug: printed with its stack. */
  software: 70,
  /** An operating-system call failed: a port in use, a file missing or not permitted. */
  os: 71,
  /** A file of the installation cannot be used: the build is incomplete (`factory stage`). */
  osFile: 72,
  /** An output file or folder could not be created. */
  cantCreate: 73,
  /** The configuration is wrong; every problem is listed. */
  config: 78,
} as const;

/** An error from a Node system call, told by its `code` (ENOENT, EADDRINUSE...), never its text. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return (
    err instanceof Error &&
    "code" in err &&
    typeof err.code === "string" &&
    /^E[A-Z0-9]+$/.test(err.code)
  );
}
