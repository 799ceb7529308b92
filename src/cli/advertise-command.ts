/**
 * `updraft advertise FILE`: send ads from a file to the collector, like condor_advertise. The
 * file holds ads in the old long form separated by blank lines, or new-syntax `[...]` ads.
 * `--invalidate` removes the ads named (by type and Name) instead.
 */
import { hasErrorCode } from "../common/errors.js";
import { COMMON } from "../ads/names.js";
import type { Command } from "commander";
import { ClassAd, ClassAdParseError } from "../classad/index.js";
import { CliError } from "./errors.js";
import type { ClientFlags } from "./client-settings.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { addPoolOptions, callError, openPool } from "./pool-client.js";
import { MAX_INPUT_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

/** Connection flags as every client command takes them, plus this command's own. */
interface AdvertiseOptions extends ClientFlags {
  type?: string;
  invalidate?: boolean;
}

/** Ads of a file: new syntax when it starts with `[`, else long-form blocks between blank lines. */
export function parseAdFile(text: string, file: string): ClassAd[] {
  const first = text.search(/\S/);
  if (first < 0) return [];
  try {
    if (text[first] === "[") return parseNewSyntaxAds(text);
    return text
      .split(/\n[ \t]*\r?\n/)
      .filter((block) =>
        block.split("\n").some((l) => l.trim() !== "" && !l.trim().startsWith("#")),
      )
      .map((block) => ClassAd.parse(block));
  } catch (err) {
    if (hasErrorCode(err, "classad-syntax")) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
}

/**
 * Several `[...]` ads one after another. They are cut apart at top-level closing brackets before
 * parsing, because `[a] [b]` on its own would parse as a subscript of the first ad.
 */
function parseNewSyntaxAds(text: string): ClassAd[] {
  const ads: ClassAd[] = [];
  let depth = 0;
  let start = -1;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== "") {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
      continue;
    }
    if (depth === 0 && ch === "#") {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? text.length : eol;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[") {
      if (depth++ === 0) start = i;
    } else if (ch === "]" && depth > 0 && --depth === 0) {
      ads.push(ClassAd.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && /\S/.test(ch)) {
      const line = text.slice(0, i).split("\n").length;
      throw new ClassAdParseError(`unexpected '${ch}' between ads`, line, 1);
    }
  }
  if (depth > 0) ads.push(ClassAd.parse(text.slice(start)));
  return ads;
}

export function createAdvertiseCommand(): Command {
  const cmd = new HtcondorCommand("advertise")
    .description("advertise the ads in FILE to the pool's collector, like condor_advertise")
    .argument(
      "<file>",
      "ads in the old long form (separated by blank lines) or new syntax [ ... ]; - for stdin",
    )
    .option("--type <type>", "ad type for ads without MyType")
    .option("--invalidate", "remove the ads (by type and Name) instead of advertising them");
  addPoolOptions(cmd);
  cmd.action(async (file: string, o: AdvertiseOptions) => {
    let text: string;
    try {
      text = readBoundedText(file, MAX_INPUT_FILE_BYTES);
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const ads = parseAdFile(text, file);
    if (ads.length === 0) throw new CliError(`${file}: no ads found`);
    const pool = await openPool(o);
    let failures = 0;
    try {
      if (o.invalidate) failures = await invalidateAll(pool, ads, o.type ?? "", file);
      else failures = await advertiseAll(pool, ads, o.type ?? "", file);
    } catch (err) {
      callError(pool.url, err);
    } finally {
      await pool.close();
    }
    if (failures > 0) throw new CliError(`${failures} of ${ads.length} ads failed`);
  });
  return cmd;
}

async function advertiseAll(
  pool: Awaited<ReturnType<typeof openPool>>,
  ads: ClassAd[],
  type: string,
  file: string,
) {
  const outcomes = await pool.collector.advertise(
    ads.map((ad) => ad.toJSON()),
    type,
    { deadlineMs: 60_000 },
  );
  let failures = 0;
  outcomes.forEach((r, i) => {
    // Taken with a code: some collectors of the pool took it and others refused it.
    if (r.ok && r.code !== "") {
      process.stderr.write(`${file}: ad ${i + 1}${r.name ? ` '${r.name}'` : ""}: ${r.message}\n`);
    }
    if (r.ok) return;
    failures++;
    const where = r.attribute ? ` (attribute ${r.attribute})` : "";
    process.stderr.write(
      `${file}: ad ${i + 1}${r.name ? ` '${r.name}'` : ""} refused${where}: ${r.message}\n`,
    );
  });
  process.stdout.write(
    `advertised ${outcomes.length - failures} of ${ads.length} ads to ${pool.urls.join(", ")}\n`,
  );
  return failures;
}

async function invalidateAll(
  pool: Awaited<ReturnType<typeof openPool>>,
  ads: ClassAd[],
  type: string,
  file: string,
) {
  let failures = 0;
  let removed = 0;
  for (const [i, ad] of ads.entries()) {
    const myType = ad.evaluate(COMMON.MyType);
    const name = ad.evaluate(COMMON.Name);
    const adType = typeof myType === "string" ? myType : type;
    if (adType === "" || typeof name !== "string") {
      failures++;
      process.stderr.write(
        `${file}: ad ${i + 1}: needs MyType (or --type) and a string Name to invalidate\n`,
      );
      continue;
    }
    const r = await pool.collector.invalidate({ type: adType, name }, { deadlineMs: 60_000 });
    removed += r.removed;
    if (r.refused > 0) {
      failures++;
      process.stderr.write(`${file}: ad ${i + 1} '${name}' not removed: ${r.message}\n`);
    }
  }
  process.stdout.write(`invalidated ${removed} of ${ads.length} ads at ${pool.urls.join(", ")}\n`);
  return failures;
}
