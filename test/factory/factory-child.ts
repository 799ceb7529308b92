/**
 * A factory process for the crash tests: its adapter submits (or not) and then the process
 * SIGKILLs itself, at the worst moments of the submit protocol. argv: config JSON file, mode
 * (`after-submit`: the pilots exist but their handles were never recorded; `before-submit`:
 * the intents are recorded and nothing was submitted).
 */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { createLocalAdapter } from "../../src/factory/adapters/local/local-adapter.js";
import type { AdapterFactory } from "../../src/factory/adapters/types.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { createFactoryDaemon } from "../../src/factory/daemon.js";

const [file, mode] = process.argv.slice(2);
// The test runner also loads every file under test/; without arguments this is not a crash test.
if (file === undefined) process.exit(0);
const config = factoryConfigSchema.parse(JSON.parse(readFileSync(file, "utf8")));
const crashing: AdapterFactory = (settings, ctx) => {
  const a = createLocalAdapter(settings, ctx);
  return {
    ...a,
    async submit(batch) {
      if (mode === "before-submit") process.kill(process.pid, "SIGKILL");
      const r = await a.submit(batch);
      process.kill(process.pid, "SIGKILL");
      return r;
    },
  };
};
const daemon = createFactoryDaemon(config, {
  logger: pino({ level: "silent" }),
  registry: new Map([["local", crashing]]),
});
await daemon.start();
