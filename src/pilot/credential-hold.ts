/**
 * The pilot's credential, held in memory. A job runs as the pilot's Unix user, so a credential
 * file or a variable naming it is within the job's reach (`/proc/<pilot>/environ` shows the
 * environment the pilot was started with). The pilot reads its credential once, before any job
 * starts, removes the file when it is the pilot's own copy (the bootstrap says so), and takes the
 * credential's variables out of the environment its children inherit.
 */
import { readFileSync, rmSync } from "node:fs";
import { ENV, type PilotSettings } from "./settings.js";

/** Variables that name a pilot credential; never passed on to validation scripts or jobs. */
export const CREDENTIAL_VARIABLES = [ENV.credential, ENV.proxy] as const;

export interface HeldCredential {
  settings: PilotSettings;
  /** Set when the file was to be removed and could not be: the credential stays on disk. */
  removeError?: string;
}

export function holdCredential(
  s: PilotSettings,
  o: { removeFile: boolean; env: NodeJS.ProcessEnv },
): HeldCredential {
  for (const name of CREDENTIAL_VARIABLES) delete o.env[name];
  const file = s.credentialFile;
  if (!file) return { settings: s };
  let pem: string;
  try {
    pem = readFileSync(file, "latin1");
  } catch {
    // Validation reports the unreadable file as VO_Proxy, naming it.
    return { settings: s };
  }
  let removeError: string | undefined;
  if (o.removeFile) {
    try {
      rmSync(file);
    } catch (err) {
      removeError = (err as Error).message;
    }
  }
  return {
    settings: {
      ...s,
      credentialPem: pem,
      validation: { ...s.validation, credentialPem: pem },
    },
    ...(removeError ? { removeError } : {}),
  };
}
