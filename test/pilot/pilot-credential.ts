/** The pilot's certificate and key in one 0600 file, as an X509_USER_PROXY holds them. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestEnv } from "../schedd/harness.js";

/** Writes `dir/pilot-credential.pem` from the test PKI's pilot and returns its path. */
export function pilotCredentialFile(env: TestEnv, dir: string): string {
  const file = join(dir, "pilot-credential.pem");
  writeFileSync(file, env.creds.pilot.certPem + env.creds.pilot.keyPem, { mode: 0o600 });
  return file;
}
