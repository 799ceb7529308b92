/**
 * Sizes with units for `request_memory` (stored in MiB) and `request_disk` (stored in KiB), as
 * condor_submit reads them: a bare number is already in the stored unit; K, M, G, T, P (with an
 * optional B or iB, any case) are powers of 1024; fractions round up.
 */

const POWERS: Readonly<Record<string, number>> = { "": 0, k: 1, m: 2, g: 3, t: 4, p: 5 };
const SIZE = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]*)$/;

export type SizeResult =
  { kind: "size"; value: number } | { kind: "bad-unit"; unit: string } | { kind: "not-a-size" };

/**
 * `text` as a count of `base` units (base: the power of 1024 of the stored unit, 1 for KiB,
 * 2 for MiB). A bare number is taken to be in the stored unit already.
 */
export function parseSize(text: string, base: number): SizeResult {
  const m = SIZE.exec(text.trim());
  if (m === null) return { kind: "not-a-size" };
  const unit = m[2].toLowerCase();
  const letter = /^([kmgtp]?)(?:b|ib)?$/.exec(unit);
  if (letter === null || (unit !== "" && letter[1] === "" && unit !== "b")) {
    return { kind: "bad-unit", unit: m[2] };
  }
  const number = Number(m[1]);
  // A bare 'B' means bytes; no letter at all means the stored unit.
  const power = unit === "" ? base : unit === "b" ? 0 : POWERS[letter[1]];
  const value = Math.ceil(number * 1024 ** (power - base) - 1e-9);
  return { kind: "size", value: Math.max(value, 0) };
}
