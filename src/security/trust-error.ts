/**
 * A trust directory that cannot be used. Apart from trust.ts, which reads CRLs with node-forge, so
 * that a client (a pilot among them) can name this error without loading the trust store.
 */
import { UpdraftError } from "../common/errors.js";

export class TrustError extends UpdraftError {
  readonly code = "trust-invalid";
  override name = "TrustError";
}
