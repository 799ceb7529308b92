/**
 * HTCondor's tools spell long options with one dash (`condor_status -af Name -long`). Commander
 * reads `-af` as a cluster of short flags, so before a command parses its options every
 * `-name` whose `--name` the command declares is rewritten to `--name`, plus the few HTCondor
 * aliases a command names (`-autoformat` for `--af`). Nothing after `--` is rewritten, and no
 * spelling the command does not declare, so values such as `-1` or `-x` pass untouched.
 */
import { Command } from "commander";

export class HtcondorCommand extends Command {
  constructor(
    name?: string,
    /** HTCondor spellings that are not the option's own name: `{ autoformat: "af" }`. */
    private readonly htcondorAliases: Readonly<Record<string, string>> = {},
  ) {
    super(name);
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    const flagged = this.options.some((o) => o.long === "--af-flags") ? splitAfFlags(args) : args;
    return super.parseOptions(
      rewriteSingleDash(flagged, singleDashSpellings(this, this.htcondorAliases)),
    );
  }
}

/** `-name` to `--name` for every long option of `cmd` with a name longer than one letter. */
export function singleDashSpellings(
  cmd: Command,
  aliases: Readonly<Record<string, string>> = {},
): Map<string, string> {
  const map = new Map<string, string>();
  for (const o of cmd.options) {
    if (o.long && o.long.length > 3) map.set(o.long.slice(1), o.long);
  }
  for (const [single, long] of Object.entries(aliases)) map.set(`-${single}`, `--${long}`);
  return map;
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

/** condor_q's `-af:hj` (or `-autoformat:hj`) as `--af-flags hj --af`, before `--` only. */
export function splitAfFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (a === "--") rest = true;
    const m = rest ? null : /^--?(?:af|autoformat):(.*)$/.exec(a);
    if (m) out.push("--af-flags", m[1]!, "--af");
    else out.push(a);
  }
  return out;
}
