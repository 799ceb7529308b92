/**
 * The sample configurations give no service or pilot identity the `user` role: a daemon's or a
 * pilot's credential must never submit or act on jobs as a person would.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { yamlFiles } from "../helpers/yaml-files.js";
import { parse } from "yaml";
import { createAuthorizer, type AuthzRule } from "../../src/security/authz.js";

const CONFIG = fileURLToPath(new URL("../../../config", import.meta.url));

/** Every `rules` list of identity rules, wherever the block sits in the file. */
function ruleLists(node: unknown, out: AuthzRule[][] = []): AuthzRule[][] {
  if (Array.isArray(node)) for (const n of node) ruleLists(n, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "rules" && Array.isArray(v) && v.every((r) => r && typeof r === "object")) {
        out.push(v as AuthzRule[]);
      } else ruleLists(v, out);
    }
  }
  return out;
}

/** DNs of services and pilots named anywhere in the configs, a `*` standing for a name. */
function serviceIdentities(text: string): string[] {
  return [...text.matchAll(/\/DC=[^\s,'"}]*OU=(?:Services|Pilots)\/[^\s,'"}]*/g)].map((m) =>
    m[0].replace(/\*+/g, "x"),
  );
}

test("no sample config gives a service or pilot identity the user role", () => {
  const files = yamlFiles(CONFIG);
  const texts = files.map((f) => readFileSync(f, "utf8"));
  // Services: DNs under OU=Services or OU=Pilots, and whoever a rule gives a daemon's role.
  const daemonRoles = new Set(["frontend", "factory", "daemon", "pilot"]);
  const byRole = texts.flatMap((t) =>
    ruleLists(parse(t))
      .flat()
      .filter((r) => r.identity?.startsWith("/") && r.roles.some((x) => daemonRoles.has(x)))
      .map((r) => r.identity!.replace(/\*+/g, "x")),
  );
  const services = [...new Set([...texts.flatMap(serviceIdentities), ...byRole])];
  assert.ok(services.length >= 3, `found only ${services.join(", ")}`);
  let checked = 0;
  files.forEach((file, i) => {
    for (const rules of ruleLists(parse(texts[i]!))) {
      const authz = createAuthorizer({ rules, default_roles: [] });
      for (const id of services) {
        assert.ok(!authz.rolesFor(id).has("user"), `${file} gives ${id} the user role`);
      }
      checked++;
    }
  });
  assert.ok(checked >= 3, "the configs' authorization rules were found");
});
