/**
 * Changes to a job ad, applied in one copy. Each state change sets and removes a handful of
 * attributes; applied one by one, every absent name is looked for through all of the ad's
 * names, every step copies the ad, and a `delete` turns the object into a slow dictionary that
 * JSON.stringify and later reads pay for. Here the ad is walked once and a new object built.
 */
import { lowerName, type JobAttrs } from "./job-status.js";

interface Change {
  name: string;
  /** undefined: the attribute goes. */
  text: string | undefined;
  /** Whether the ad spelled this name (so it need not be added at the end). */
  found: boolean;
}

export class AttrChanges {
  private readonly byName = new Map<string, Change>();

  /** Set `name` to `text`, keeping the ad's spelling of the name; a later set wins. */
  set(name: string, text: string): this {
    this.byName.set(lowerName(name), { name, text, found: false });
    return this;
  }

  /** Remove `name` (in any spelling). */
  delete(name: string): this {
    this.byName.set(lowerName(name), { name, text: undefined, found: false });
    return this;
  }

  /** A new ad: `attrs` in its order with the changes made, new names at the end in set order. */
  applyTo(attrs: JobAttrs): JobAttrs {
    const out: [string, string][] = [];
    for (const c of this.byName.values()) c.found = false;
    for (const k in attrs) {
      const c = this.byName.get(lowerName(k));
      if (c === undefined) out.push([k, attrs[k]!]);
      else {
        c.found = true;
        if (c.text !== undefined) out.push([k, c.text]);
      }
    }
    for (const c of this.byName.values()) {
      if (!c.found && c.text !== undefined) out.push([c.name, c.text]);
    }
    // Built in one go: an object given more than a dozen new names one by one becomes a slow
    // dictionary in V8, which every later read, name scan and JSON.stringify of the ad paid for.
    return Object.fromEntries(out) as JobAttrs;
  }
}
