import assert from "node:assert/strict";
import { test } from "node:test";
import { decide } from "../../src/factory/decide.js";
import type { RefusalReason } from "../../src/factory/decide-types.js";
import { entry, request, snapshot } from "./decide-helpers.js";

const rows: [string, Parameters<typeof snapshot>[0], RefusalReason | undefined][] = [
  ["the configured identity is served", {}, undefined],
  [
    "another identity using the class is refused",
    { requests: [request({ authenticatedIdentity: "/CN=impostor" })] },
    "identity_mismatch",
  ],
  [
    "an unknown security class is refused",
    { requests: [request({ securityClass: "root" })] },
    "unknown_security_class",
  ],
  [
    "a class of another frontend is refused",
    { requests: [request({ frontend: "fe2" })] },
    "unknown_security_class",
  ],
  ["an unknown entry is refused", { requests: [request({ entry: "nope" })] }, "unknown_entry"],
  ["a disabled entry is refused", { entries: [entry({ enabled: false })] }, "entry_disabled"],
  [
    "a class not allowed on the entry is refused",
    { entries: [entry({ allowClasses: ["other"] })] },
    "class_not_allowed_on_entry",
  ],
];

for (const [name, snap, reason] of rows) {
  test(`refuse: ${name}`, () => {
    const d = decide(snapshot(snap));
    if (reason === undefined) {
      assert.equal(d.refused.length, 0);
      assert.equal(d.clients.length, 1);
    } else {
      assert.equal(d.clients.length, 0);
      assert.equal(d.refused[0]?.reason, reason);
    }
  });
}

test("refuse: an identity mismatch is checked before the entry exists", () => {
  const d = decide(
    snapshot({ requests: [request({ entry: "nope", authenticatedIdentity: "/CN=x" })] }),
  );
  assert.equal(d.refused[0]?.reason, "identity_mismatch");
});
