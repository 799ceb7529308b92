/**
 * The VOMS attributes a proxy carries (voms-proxy-init's attribute certificate, RFC 5755, in the
 * proxy's extension 1.3.6.1.4.1.8005.100.100.5): the VO and its FQANs, read as HTCondor's schedd
 * reads them for a job's proxy (`x509UserProxyVOName`, `x509UserProxyFirstFQAN`,
 * `x509UserProxyFQAN`), without checking the attribute certificate's signature against a VOMS
 * server's certificate. They describe the job; they never authorize anything here.
 */
import { parseCertificate } from "./cert-info.js";
import { Tag, children, content, decodeOid, readTlv, type Tlv } from "./der.js";

export const VOMS_AC_EXTENSION = "1.3.6.1.4.1.8005.100.100.5";
const VOMS_ATTRIBUTE = "1.3.6.1.4.1.8005.100.100.4";
/** GeneralName uniformResourceIdentifier: `[6] IMPLICIT IA5String`. */
const URI_NAME = 0x86;
/** More FQANs than any VO hands out: the rest are not read. */
export const MAX_FQANS = 64;
/** Longer FQANs or VO names than VOMS makes are not taken. */
const MAX_TEXT = 1024;

export interface VomsAttributes {
  vo: string;
  /** In the order the VOMS server granted them; the first is the primary one. */
  fqans: string[];
}

/**
 * The VOMS attributes of a proxy chain (leaf first), from the first certificate that carries
 * them, as voms-proxy-info reads a proxy made from another; undefined when none does or when
 * what is there cannot be read.
 */
export function vomsAttributes(chain: readonly Buffer[]): VomsAttributes | undefined {
  for (const der of chain) {
    let ext;
    try {
      ext = parseCertificate(der).extensions.find((e) => e.oid === VOMS_AC_EXTENSION);
    } catch {
      return undefined;
    }
    if (ext === undefined) continue;
    try {
      return fromAcSequence(ext.value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The extension holds a sequence of attribute certificates (nested once more by some VOMS). */
function fromAcSequence(v: Buffer): VomsAttributes | undefined {
  let level = [readTlv(v)];
  for (let depth = 0; depth < 3 && level.length > 0; depth++) {
    for (const t of level) if (isAttributeCertificate(v, t)) return fromAc(v, t);
    level = level.flatMap((t) => (t.tag === Tag.SEQUENCE ? children(v, t) : []));
  }
  return undefined;
}

/** AttributeCertificate ::= SEQUENCE { acinfo SEQUENCE, signatureAlgorithm, signature BIT STRING } */
function isAttributeCertificate(v: Buffer, t: Tlv): boolean {
  if (t.tag !== Tag.SEQUENCE) return false;
  const parts = children(v, t);
  return (
    parts.length === 3 &&
    parts[0]!.tag === Tag.SEQUENCE &&
    parts[1]!.tag === Tag.SEQUENCE &&
    parts[2]!.tag === Tag.BIT_STRING
  );
}

function fromAc(v: Buffer, ac: Tlv): VomsAttributes | undefined {
  const info = children(v, children(v, ac)[0]!);
  // The attributes follow the validity period, a SEQUENCE of two GeneralizedTimes.
  const validity = info.findIndex(
    (t) =>
      t.tag === Tag.SEQUENCE &&
      children(v, t).every((c) => c.tag === Tag.GENERALIZED_TIME) &&
      children(v, t).length === 2,
  );
  const attributes = validity < 0 ? undefined : info[validity + 1];
  if (attributes?.tag !== Tag.SEQUENCE) return undefined;
  for (const attr of children(v, attributes)) {
    const [type, values] = children(v, attr);
    if (type?.tag !== Tag.OID || values?.tag !== Tag.SET) continue;
    if (decodeOid(content(v, type)) !== VOMS_ATTRIBUTE) continue;
    const [syntax] = children(v, values);
    if (syntax?.tag === Tag.SEQUENCE) return fromIetfAttrSyntax(v, syntax);
  }
  return undefined;
}

/** IetfAttrSyntax ::= SEQUENCE { policyAuthority [0] GeneralNames, values SEQUENCE OF ... } */
function fromIetfAttrSyntax(v: Buffer, syntax: Tlv): VomsAttributes | undefined {
  let vo: string | undefined;
  const fqans: string[] = [];
  for (const part of children(v, syntax)) {
    if (part.tag === 0xa0) {
      // policyAuthority: "<vo>://<voms host>:<port>"
      const uri = children(v, part).find((n) => n.tag === URI_NAME);
      if (uri !== undefined) vo = /^([^:/]+):\/\//.exec(text(v, uri) ?? "")?.[1];
    } else if (part.tag === Tag.SEQUENCE) {
      for (const value of children(v, part)) {
        if (fqans.length >= MAX_FQANS) break;
        const fqan = value.tag === Tag.OCTET_STRING ? text(v, value) : undefined;
        if (fqan !== undefined && fqan.startsWith("/")) fqans.push(fqan);
      }
    }
  }
  if (vo === undefined || fqans.length === 0) return undefined;
  return { vo, fqans };
}

/** Printable ASCII of bounded length, or undefined: these land in job ads and logs. */
function text(v: Buffer, t: Tlv): string | undefined {
  const s = content(v, t).toString("latin1");
  return s.length > 0 && s.length <= MAX_TEXT && /^[\x20-\x7e]+$/.test(s) ? s : undefined;
}

/**
 * `x509UserProxyFQAN` as HTCondor writes it: the subject, then each FQAN, comma-separated, with
 * `&` written `&amp;` and `,` written `&comma;` inside each.
 */
export function dnAndFqans(subject: string, fqans: readonly string[]): string {
  const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/,/g, "&comma;");
  return [subject, ...fqans].map(escape).join(",");
}
