/**
 * The file access `compileSubmit` needs, on the local disk: for the CLI and any client that
 * compiles a submit file where the user's files are.
 */
import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import type { DirEntry } from "./queue-statement.js";

export interface SubmitFileAccess {
  readFile(path: string): string | undefined;
  listDir(path: string): readonly DirEntry[] | undefined;
  fileExists(path: string): boolean;
  isSymlink(path: string): boolean;
}

export const LOCAL_FILES: SubmitFileAccess = {
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
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true;
  },
};
