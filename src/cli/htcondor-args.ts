/**
 * HTCondor's tools spell long options with one dash (`condor_status -af Name -long`). Commander
 * reads `-af` as a cluster of short flags, so those spellings are rewritten to `--af` before
 * commander parses a command's options. Only the exact names listed are rewritten, and nothing
 * after `--`, so values such as `-1` pass untouched.
 */
import { Command } from "commander";

export class HtcondorCommand extends Command {
  constructor(
    name: string,
    private readonly singleDash: ReadonlyMap<string, string>,
  ) {
    super(name);
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    return super.parseOptions(rewriteSingleDash(args, this.singleDash));
  }
}

export function rewriteSingleDash(
  args: readonly string[],
  map: ReadonlyMap<string, string>,
): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (a === "--") rest = true;
    out.push(rest ? a : (map.get(a) ?? a));
  }
  return out;
}

/** `-name` and `--name` for each long option name given. */
export function singleDashMap(names: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(names).map(([single, long]) => [`-${single}`, `--${long}`]));
}

/** Long options the schedd's user commands (q, history, rm, submit...) accept with one dash. */
const SCHEDD_SINGLE_DASH = singleDashMap(
  Object.fromEntries(
    (
      "af long json totals hold run nobatch allusers constraint limit name schedd reason " +
      "dry-run append batch-name timeout dir poll"
    )
      .split(" ")
      .map((n) => [n, n]),
  ),
);

/** A schedd user command: HTCondor's one-dash spellings of its long options work too. */
export function scheddUserCommand(name: string): Command {
  return new HtcondorCommand(name, SCHEDD_SINGLE_DASH);
}
