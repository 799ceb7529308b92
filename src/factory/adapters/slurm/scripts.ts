/**
 * Pure: the shell scripts the adapter runs where Slurm is (see host.ts), and parsers of what
 * they print. Every script reports through `@@WORD` lines so that stray output (a login banner,
 * a site's profile) cannot be mistaken for an answer.
 */
import { shQuote } from "./batch-script.js";
import type { SlurmSettings } from "./settings.js";

/** Environment every Slurm command needs; files made by the scripts are private to the user. */
export function preamble(s: SlurmSettings): string {
  const lines = ["umask 077"];
  if (s.slurm_conf) lines.push(`SLURM_CONF=${shQuote(s.slurm_conf)}; export SLURM_CONF`);
  if (s.slurm_bin_dir) lines.push(`PATH=${shQuote(s.slurm_bin_dir)}:"$PATH"; export PATH`);
  return lines.join("\n") + "\n";
}

export interface FileToWrite {
  path: string;
  content: Buffer;
  /** Leave an existing file as it is (shared copies of the pilot command). */
  keepExisting?: boolean;
  executable?: boolean;
}

export interface SubmitItem {
  /** Names the item in the answer: a pilot's handle, or a job array's key. */
  key: string;
  dir: string;
  files: FileToWrite[];
  sbatch: string[];
}

function writeFile(f: FileToWrite): string {
  const p = shQuote(f.path);
  const tmp = shQuote(`${f.path}.tmp.$$`);
  const body = [
    `mkdir -p ${shQuote(f.path.slice(0, f.path.lastIndexOf("/")) || "/")}`,
    `base64 -d > ${tmp} <<'UPDRAFT_EOF'`,
    f.content
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n")
      .trimEnd(),
    "UPDRAFT_EOF",
    f.executable ? `chmod 700 ${tmp}` : `chmod 600 ${tmp}`,
    `mv -f ${tmp} ${p}`,
  ].join("\n");
  return f.keepExisting ? `if [ ! -f ${p} ]; then\n${body}\nfi` : body;
}

const b64 = (file: string): string => `"$(base64 < ${file} | tr -d '\\n')"`;

/**
 * sbatch with an empty environment but for PATH and SLURM_CONF: with `--export=ALL` the pilot
 * gets this environment, so nothing of the factory's (or the login session's) reaches it, and no
 * SBATCH_* variable there changes the submission (the entry's settings say what sbatch does).
 */
const SBATCH = 'env -i PATH="$PATH" ${SLURM_CONF:+"SLURM_CONF=$SLURM_CONF"} sbatch';

/**
 * Stage each item's files (a pilot's, or a job array's), then sbatch it. Per item one line:
 * `@@SUBMIT <key> <sbatch exit status> <stdout b64> <stderr b64>`, or
 * `@@STAGE <key> <error b64>` when its files could not be written.
 */
export function submitScript(s: SlurmSettings, items: readonly SubmitItem[]): string {
  const parts = [preamble(s), "t=$(mktemp -d) || exit 90", `trap 'rm -rf "$t"' EXIT`];
  for (const it of items) {
    const h = shQuote(it.key);
    // Not `if ( ... )`: inside a tested condition `set -e` is ignored, and a failed write
    // would go unnoticed.
    parts.push(
      `( set -e\nmkdir -p ${shQuote(it.dir)}\n${it.files.map(writeFile).join("\n")}\n) 2>"$t/e"`,
      'if [ "$?" -eq 0 ]; then',
      `  ${SBATCH} ${it.sbatch.map(shQuote).join(" ")} >"$t/o" 2>"$t/e"; rc=$?`,
      `  printf '@@SUBMIT %s %s %s %s\\n' ${h} "$rc" ${b64('"$t/o"')} ${b64('"$t/e"')}`,
      "else",
      `  printf '@@STAGE %s %s\\n' ${h} ${b64('"$t/e"')}`,
      "fi",
    );
  }
  return parts.join("\n") + "\n";
}

export type SubmitAnswer =
  | { key: string; kind: "submitted"; rc: number; stdout: string; stderr: string }
  | { key: string; kind: "stage-failed"; error: string };

const unb64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString("utf8");

export function parseSubmitAnswers(stdout: string): Map<string, SubmitAnswer> {
  const out = new Map<string, SubmitAnswer>();
  for (const line of stdout.split("\n")) {
    const f = line.split(" ");
    if (f[0] === "@@SUBMIT" && f.length >= 3) {
      out.set(f[1]!, {
        key: f[1]!,
        kind: "submitted",
        rc: Number(f[2]),
        stdout: unb64(f[3]),
        stderr: unb64(f[4]),
      });
    } else if (f[0] === "@@STAGE" && f.length >= 2) {
      out.set(f[1]!, { key: f[1]!, kind: "stage-failed", error: unb64(f[2]) });
    }
  }
  return out;
}

/**
 * Only the submitting user's jobs (numeric, so a uid without a passwd entry works too; `--user`
 * rather than `--me`, which Slurm before 20.11 lacks). The uid comes first as `@@USER <uid>`,
 * because Slurm 22.05's `--json` lists every user's jobs whatever the filter.
 */
const USER = "u=$(id -u) || exit 1\n";

export const squeueJsonScript = (s: SlurmSettings): string =>
  `${preamble(s)}${USER}echo "@@USER $u"\nexec squeue --json --user="$u"\n`;

export const squeueTextScript = (s: SlurmSettings, format: string): string =>
  `${preamble(s)}${USER}exec squeue --noheader --states=all --user="$u" --format=${shQuote(format)}\n`;

/** squeue refused the option, as Slurm before 21.08 does, rather than failing to answer. */
export function jsonUnsupported(stderr: string): boolean {
  return /(unrecognized|invalid|unknown) option|--json|serializer/i.test(stderr);
}

export const configScript = (s: SlurmSettings): string =>
  `${preamble(s)}exec scontrol show config\n`;

/** `Key = value` lines of `scontrol show config`. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/**
 * The jobcomp file from byte `offset` on (from 0 if it shrank: rotated). First line:
 * `@@JOBCOMP <size> <offset used>`, or `@@JOBCOMP missing`.
 */
export function jobcompScript(file: string, offset: number): string {
  const f = shQuote(file);
  return [
    `if [ ! -r ${f} ]; then echo '@@JOBCOMP missing'; exit 0; fi`,
    `s=$(wc -c < ${f}) || exit 1`,
    `o=${offset}; if [ "$s" -lt "$o" ]; then o=0; fi`,
    `echo "@@JOBCOMP $s $o"`,
    `tail -c +$((o + 1)) ${f} | head -c $((s - o))`,
    "",
  ].join("\n");
}

export function parseJobcomp(
  stdout: string,
): { size: number; from: number; text: string } | undefined {
  const nl = stdout.indexOf("\n");
  const head = /^@@JOBCOMP (\d+) (\d+)$/.exec(stdout.slice(0, nl < 0 ? undefined : nl));
  if (!head) return undefined;
  return { size: Number(head[1]), from: Number(head[2]), text: nl < 0 ? "" : stdout.slice(nl + 1) };
}

export const sacctScript = (s: SlurmSettings, ids: readonly string[]): string =>
  `${preamble(s)}exec sacct -X -n -P -o JobID,State,ExitCode,JobName -j ${ids.join(",")}\n`;

/** Per pilot folder: `@@EXIT <handle> <status or ->`. */
export function exitCodesScript(pilots: readonly { handle: string; dir: string }[]): string {
  return (
    pilots
      .map(
        (p) =>
          `printf '@@EXIT %s %s\\n' ${p.handle} "$(cat ${shQuote(`${p.dir}/exit_code`)} 2>/dev/null || echo -)"`,
      )
      .join("\n") + "\n"
  );
}

export function parseExitCodes(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^@@EXIT (\S+) (\d+)\s*$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Tails of the pilot's stdout and stderr: `@@OUT <b64>` and `@@ERR <b64>`. */
export function outputScript(dir: string, maxBytes: number): string {
  const tail = (f: string): string =>
    `$(tail -c ${maxBytes} ${shQuote(`${dir}/${f}`)} 2>/dev/null | base64 | tr -d '\\n')`;
  return `printf '@@OUT %s\\n@@ERR %s\\n' "${tail("stdout")}" "${tail("stderr")}"\n`;
}

export function parseOutput(stdout: string): { stdout: string; stderr: string } {
  return {
    stdout: unb64(/^@@OUT ?(\S*)$/m.exec(stdout)?.[1]),
    stderr: unb64(/^@@ERR ?(\S*)$/m.exec(stdout)?.[1]),
  };
}

export const cancelScript = (s: SlurmSettings, ids: readonly string[]): string =>
  `${preamble(s)}exec scancel ${ids.join(" ")}\n`;

export const releaseScript = (s: SlurmSettings, ids: readonly string[]): string =>
  `${preamble(s)}exec scontrol release ${ids.join(",")}\n`;

/** Remove pilot folders, then each job array folder left without a task folder. */
export function purgeScript(dirs: readonly string[], arrayDirs: readonly string[] = []): string {
  const lines = [`rm -rf ${dirs.map(shQuote).join(" ")}`];
  for (const d of arrayDirs) {
    // An unmatched glob stays as written, which is no folder.
    lines.push(`set -- ${shQuote(d)}/*/`, `if [ ! -d "$1" ]; then rm -rf ${shQuote(d)}; fi`);
  }
  return lines.join("\n") + "\n";
}
