/** Locates the shared ClassAd reference files: `<repoRoot>/../shared/classad/`. */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Repository root (this file runs from `<repoRoot>/dist/test/classad/`). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SHARED_CLASSAD_DIR = fileURLToPath(new URL("../shared/classad/", `file://${REPO_ROOT}`));

/** The text of a shared file; throws (failing the test) with a clear message when it is missing. */
export function readSharedFile(name: string): string {
  const path = `${SHARED_CLASSAD_DIR}${name}`;
  if (!existsSync(path)) {
    throw new Error(
      `shared ClassAd reference file missing: ${path} (expected the 'shared/' folder beside the repository)`,
    );
  }
  return readFileSync(path, "utf8");
}
