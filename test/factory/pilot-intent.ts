/**
 * The pilot intent a test or benchmark records when its names do not matter: entry e, client c,
 * frontend f, security class s, credential x, through the grid type given.
 */
import type { PilotIntent } from "../../src/factory/store.js";

export function pilotIntent(gridtype = "local"): PilotIntent {
  return {
    entry: "e",
    client: "c",
    frontend: "f",
    securityClass: "s",
    credentialId: "x",
    gridtype,
  };
}
