/**
 * Lower-case keys of attribute names (attribute lookup is case-insensitive), remembered: the
 * same few hundred names recur in every ad a daemon reads and writes. The table is bounded and
 * starts over when full, so hostile input cannot grow it.
 */

/** Longer names are lowered each time (real attribute names are far shorter). */
const MAX_REMEMBERED_LENGTH = 64;
const MAX_KEYS = 4096;
let lowerKeys = new Map<string, string>();

/** `name.toLowerCase()`, remembered for names seen before. */
export function lowerName(name: string): string {
  let key = lowerKeys.get(name);
  if (key !== undefined) return key;
  key = name.toLowerCase();
  if (name.length <= MAX_REMEMBERED_LENGTH) {
    if (lowerKeys.size >= MAX_KEYS) lowerKeys = new Map();
    lowerKeys.set(name, key);
  }
  return key;
}
