/** The submit language: condor_submit descriptions compiled to job ads, and their printed forms. */
export {
  compileSubmit,
  DEFAULT_RESOURCES,
  type CompileResult,
  type CompileSubmitOptions,
  type SubmitError,
} from "./compile-submit.js";
export { JobAdText, type AttrPair } from "./job-ad-text.js";
export type { ResourceDefaults } from "./derive-context.js";
export type { DirEntry } from "./queue-statement.js";
export {
  formatLongForm,
  formatJson,
  formatErrors,
  formatWarnings,
  longFormChunks,
  jsonChunks,
} from "./format.js";
export { localFiles, type SubmitFileAccess } from "./local-files.js";
