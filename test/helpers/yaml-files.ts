/** The YAML files under a folder, its subfolders included (the example configurations). */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? yamlFiles(join(dir, e.name))
      : e.name.endsWith(".yaml")
        ? [join(dir, e.name)]
        : [],
  );
}
