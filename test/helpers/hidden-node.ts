/**
 * A worker node without a usable Node.js, made on this machine: a mount namespace in which a stub
 * is bound over the system `node` (the stub answers as an old Node.js 16 would, as on an EL8
 * node), and a PATH holding no other. Needs root and util-linux's `unshare` (both in CI).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** The version the stub claims: too old for the pilot. */
export const STUB_NODE_VERSION = "16.20.2";
/** A PATH with the system folders only; the `node` in them is the stub inside the namespace. */
export const PLAIN_PATH = "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface HiddenNode {
  /** The stub script. */
  stub: string;
  /** argv that runs `argv` with the system node hidden. */
  wrap(argv: readonly string[]): string[];
  /** The same as one line of POSIX shell, for a batch job's script (arguments single-quoted). */
  shellLine(argv: readonly string[]): string;
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

export function createHiddenNode(dir: string): HiddenNode {
  const stub = join(dir, "stub-node");
  writeFileSync(
    stub,
    `#!/bin/sh\n# Stands in for an old system Node.js; whatever it is asked, it answers its version.\necho ${STUB_NODE_VERSION}\n`,
    { mode: 0o755 },
  );
  // process.execPath is the system node these tests run with; /bin/node is the same file.
  const hide = 'stub=$1; target=$2; shift 2; mount --bind "$stub" "$target" || exit 97; exec "$@"';
  const wrap = (argv: readonly string[]) => [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "/bin/sh",
    "-c",
    hide,
    "hide-node",
    stub,
    process.execPath,
    ...argv,
  ];
  return { stub, wrap, shellLine: (argv) => wrap(argv).map(quote).join(" ") };
}
