/**
 * The file access `compileSubmit` needs, on the local disk: for the CLI and any client that
 * compiles a submit file where the user's files are.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { posix } from "node:path";
import type { DirEntry } from "./queue-statement.js";

export interface SubmitFileAccess {
  readFile(path: string): string | undefined;
  listDir(path: string): readonly DirEntry[] | undefined;
  fileExists(path: string): boolean;
  isSymlink(path: string): boolean;
}

/**
 * Local file access for one compile. Whether an output name is a symbolic link is read from its
 * folder's listing, taken once per folder for the compile: 2,000 jobs writing `out/job.$(Process)`
 * cost one listing instead of 4,000 lstat calls. A listing follows links to the folder as lstat of
 * a path in it does, so the same names are refused; a folder that cannot be listed (missing, not
 * a folder) holds no link.
 */
export function localFiles(): SubmitFileAccess {
  const linksIn = new Map<string, ReadonlySet<string>>();
  const links = (dir: string): ReadonlySet<string> => {
    let names = linksIn.get(dir);
    if (names === undefined) {
      try {
        names = new Set(
          readdirSync(dir, { withFileTypes: true })
            .filter((d) => d.isSymbolicLink())
            .map((d) => d.name),
        );
      } catch {
        names = new Set();
      }
      linksIn.set(dir, names);
    }
    return names;
  };
  return {
    readFile(path) {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
    listDir(path) {
      try {
        return readdirSync(path, { withFileTypes: true }).map((d) => ({
          name: d.name,
          isDir: d.isDirectory(),
        }));
      } catch {
        return undefined;
      }
    },
    fileExists(path) {
      return existsSync(path);
    },
    isSymlink(path) {
      // Compiles pass absolute, normalized paths (posix.resolve's); resolving again cost 2,000
      // jobs' outputs a measurable share.
      const full = path.startsWith("/") ? path : posix.resolve(path);
      return links(posix.dirname(full)).has(posix.basename(full));
    },
  };
}
