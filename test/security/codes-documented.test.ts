/** Every verification failure code is explained in src/security/README.md. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TOKEN_REFUSAL_CODES } from "../../src/security/token-verify.js";
import { VERIFY_FAILURE_CODES } from "../../src/security/verify.js";

const readme = readFileSync(
  fileURLToPath(new URL("../../../src/security/README.md", import.meta.url)),
  "utf8",
);

test("each failure code has a row in the security README", () => {
  for (const code of VERIFY_FAILURE_CODES) {
    assert.match(
      readme,
      new RegExp(`^\\| \`${code}\`\\s*\\| \\S`, "m"),
      `${code} is not documented`,
    );
  }
});

test("each bearer-token refusal code has a row in the security README", () => {
  for (const code of TOKEN_REFUSAL_CODES) {
    assert.match(
      readme,
      new RegExp(`^\\| \`${code}\`\\s*\\| \\S`, "m"),
      `${code} is not documented`,
    );
  }
});
