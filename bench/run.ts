/**
 * `npm run bench -- NAME [NAME...]`: runs bench/NAME.ts, each printing one JSON line per figure.
 * With no name, runs every benchmark.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".js") && f !== "run.js")
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!available.includes(name)) {
    process.stderr.write(`bench: no benchmark named '${name}' (have: ${available.join(", ")})\n`);
    process.exit(2);
  }
}
for (const name of wanted.length > 0 ? wanted : available) {
  const mod = (await import(`./${name}.js`)) as { run: () => Promise<void> | void };
  await mod.run();
}
