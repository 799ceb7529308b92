/**
 * Compact attribute tables for stored ads. A Map per ad costs about 3 KB for 60 attributes; ads
 * of one kind all have the same attribute names in the same order, so the name-to-position table
 * (the shape) is shared and each ad keeps only an array of entries, like a JavaScript engine's
 * hidden classes. ShapedEntries is a Map to the ClassAd engine, which only calls Map methods.
 */
import type { AttrEntry } from "../classad/classad.js";

export class Shape {
  /** Lower-case attribute name to position in an ad's entry array. */
  readonly index = new Map<string, number>();
  private readonly transitions = new Map<string, Shape>();

  constructor(
    readonly keys: readonly string[],
    private readonly tree: ShapeTree,
  ) {
    keys.forEach((k, i) => this.index.set(k, i));
  }

  /** The shape with `key` appended (shared by every ad that took the same path). */
  with(key: string): Shape {
    const hit = this.transitions.get(key);
    if (hit !== undefined) return hit;
    const next = new Shape([...this.keys, key], this.tree);
    // Adversarial name sets must not grow the tree without bound: past it, shapes are private.
    if (this.tree.count < this.tree.maxShapes) {
      this.transitions.set(key, next);
      this.tree.count++;
    }
    return next;
  }
}

export class ShapeTree {
  count = 0;
  readonly root: Shape;

  constructor(readonly maxShapes = 100_000) {
    this.root = new Shape([], this);
  }
}

export interface ShapeCache {
  shape: Shape | undefined;
  pos: number;
}

export class ShapedEntries extends Map<string, AttrEntry> {
  constructor(
    private shape: Shape,
    private vals: AttrEntry[],
  ) {
    super();
  }

  override get(key: string): AttrEntry | undefined {
    const i = this.shape.index.get(key);
    return i === undefined ? undefined : this.vals[i];
  }

  /**
   * `get` for a loop over many ads reading one attribute: ads of one kind share a shape, so the
   * position is remembered for the last shape seen and the name lookup is skipped.
   */
  getCached(cache: ShapeCache, key: string): AttrEntry | undefined {
    if (cache.shape !== this.shape) {
      cache.shape = this.shape;
      cache.pos = this.shape.index.get(key) ?? -1;
    }
    return cache.pos < 0 ? undefined : this.vals[cache.pos];
  }

  /** Key and entry at a position, for walking an ad alongside the one replacing it. */
  keyAt(i: number): string | undefined {
    return this.shape.keys[i];
  }

  valueAt(i: number): AttrEntry | undefined {
    return this.vals[i];
  }

  override has(key: string): boolean {
    return this.shape.index.has(key);
  }

  override set(key: string, value: AttrEntry): this {
    // Called only while the map is constructed, before super() returns a usable object.
    if (this.shape === undefined) return this;
    const i = this.shape.index.get(key);
    if (i !== undefined) this.vals[i] = value;
    else {
      this.shape = this.shape.with(key);
      this.vals.push(value);
    }
    return this;
  }

  override delete(key: string): boolean {
    const i = this.shape.index.get(key);
    if (i === undefined) return false;
    const keys = this.shape.keys.filter((_, j) => j !== i);
    const tree = new ShapeTree(0);
    this.shape = new Shape(keys, tree);
    this.vals = this.vals.filter((_, j) => j !== i);
    return true;
  }

  override clear(): void {
    this.shape = new Shape([], new ShapeTree(0));
    this.vals = [];
  }

  override *keys(): MapIterator<string> {
    yield* this.shape.keys;
  }

  override *values(): MapIterator<AttrEntry> {
    yield* this.vals;
  }

  override *entries(): MapIterator<[string, AttrEntry]> {
    const keys = this.shape.keys;
    for (let i = 0; i < keys.length; i++) yield [keys[i]!, this.vals[i]!];
  }

  override [Symbol.iterator](): MapIterator<[string, AttrEntry]> {
    return this.entries();
  }

  override forEach(fn: (value: AttrEntry, key: string, map: Map<string, AttrEntry>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

Object.defineProperty(ShapedEntries.prototype, "size", {
  get(this: { vals: AttrEntry[] }) {
    return this.vals.length;
  },
});
