/**
 * The collector's core: advertise, invalidate and query over the ad store, with per-type write
 * roles, owner checks and limits. No sockets and no timers; time comes from the injected clock,
 * so everything here is testable directly and the service only translates to and from the wire.
 */
import {
  ClassAd,
  compileExpression,
  isTrueEquivalent,
  tryParse,
  unparseValue,
  type CompiledExpr,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";
import type { Clock } from "../common/clock.js";
import { type AdLimits, buildAd, stamp } from "./ad-build.js";
import { AttrInterner } from "./intern.js";
import { RateWindow } from "./rate-window.js";
import { AdStore, type StoredAd } from "./store.js";

export interface Caller {
  identity: string;
  roles: ReadonlySet<string>;
}

export interface AdOutcome {
  ok: boolean;
  code: string;
  message: string;
  attribute: string;
  replaced: boolean;
  type: string;
  name: string;
}

export interface InvalidateOutcome {
  removed: number;
  refused: number;
  message: string;
}

export interface CollectorCoreOptions {
  clock: Clock;
  /** Roles allowed to write ads of a type (admins always may). */
  writeRolesFor(type: string): readonly string[];
  /** Lifetime in seconds of an ad of a type that carries no ClassAdLifetime. */
  lifetimeFor(type: string): number;
  /** Upper bound on an ad's own ClassAdLifetime, seconds. */
  maxLifetime: number;
  limits: AdLimits & { maxAdsPerIdentity: number };
  /** Name of the collector's own Collector ad, and the identity it is stored under. */
  name: string;
  identity: string;
}

export type Constraint =
  { ok: true; test: (ad: ClassAd) => boolean } | { ok: false; message: string };

const ACCEPT_ALL = (): boolean => true;

export class CollectorCore {
  readonly store: AdStore<ClassAd>;
  readonly interner = new AttrInterner();
  readonly updates = new RateWindow();
  readonly startedAt: number;
  /** `time()` inside constraints follows the injected clock. */
  readonly fnContext: FnContext;
  /** The collector writing its own ad: not counted as an update. */
  private readonly self: Caller;

  constructor(private readonly opts: CollectorCoreOptions) {
    this.store = new AdStore<ClassAd>({ maxAdsPerIdentity: opts.limits.maxAdsPerIdentity });
    this.startedAt = opts.clock.now();
    this.fnContext = { now: () => Math.floor(opts.clock.now() / 1000) };
    this.self = { identity: opts.identity, roles: new Set(["admin"]) };
  }

  /** Insert or replace each ad; one outcome per ad, in order. A refused ad does not stop the rest. */
  advertise(
    ads: readonly Readonly<Record<string, string>>[],
    defaultType: string,
    caller: Caller,
  ): AdOutcome[] {
    const now = this.opts.clock.now();
    const admin = caller.roles.has("admin");
    const writer = { identity: caller.identity, admin };
    const identityText = unparseValue(caller.identity);
    const heardText = String(Math.floor(now / 1000));
    const out: AdOutcome[] = [];
    for (const attrs of ads) {
      const built = buildAd(attrs, defaultType, this.interner, this.opts.limits);
      if (!built.ok) {
        out.push({ ...built, ok: false, replaced: false, type: "", name: "" });
        continue;
      }
      const { ad, type, name } = built;
      const base = { type, name, attribute: "", replaced: false };
      if (!admin && !this.mayWrite(type, caller.roles)) {
        const needs = this.opts.writeRolesFor(type);
        out.push({
          ...base,
          ok: false,
          code: "permission-denied",
          attribute: "MyType",
          message:
            needs.length === 0
              ? `${type} ads are written only by the collector itself`
              : `writing ${type} ads needs role ${needs.join(" or ")}; ${caller.identity} has ${[...caller.roles].join(", ") || "none"}`,
        });
        continue;
      }
      stamp(ad, this.interner, "AuthenticatedIdentity", identityText);
      stamp(ad, this.interner, "LastHeardFrom", heardText);
      const seconds = Math.min(
        built.lifetime ?? this.opts.lifetimeFor(type),
        this.opts.maxLifetime,
      );
      const r = this.store.upsert(type, name, ad, writer, seconds * 1000, now);
      if (!r.ok) {
        const code = r.code === "not-owner" ? "permission-denied" : "resource-exhausted";
        out.push({
          ...base,
          ok: false,
          code,
          message: r.message,
          attribute: r.code === "not-owner" ? "Name" : "",
        });
        continue;
      }
      if (caller !== this.self) this.updates.add(now);
      out.push({ ...base, ok: true, code: "", message: "", replaced: r.replaced });
    }
    return out;
  }

  private mayWrite(type: string, roles: ReadonlySet<string>): boolean {
    return this.opts.writeRolesFor(type).some((r) => roles.has(r));
  }

  /** A constraint expression as a predicate; an empty text accepts every ad. */
  constraint(text: string): Constraint {
    if (text.trim() === "") return { ok: true, test: ACCEPT_ALL };
    const parsed = tryParse(() => compileExpression(text));
    if (!parsed.ok) return { ok: false, message: `constraint: ${parsed.error.message}` };
    const compiled: CompiledExpr = parsed.value;
    const options = { ctx: this.fnContext };
    return { ok: true, test: (ad) => isTrueEquivalent(ad.evaluateExpr(compiled, null, options)) };
  }

  /** Ads of `type` (every type when empty) accepted by `test`, at most `limit` (0: no limit). */
  select(type: string, test: (ad: ClassAd) => boolean, limit = 0): StoredAd<ClassAd>[] {
    const out: StoredAd<ClassAd>[] = [];
    const gen = this.store.select(
      type === "" ? undefined : type,
      (s) => test(s.ad),
      limit > 0 ? limit : Infinity,
    );
    for (const s of gen) out.push(s);
    return out;
  }

  /** Remove one ad by type and name, or every ad accepted by the constraint that the caller owns. */
  invalidate(
    sel: { type: string; name: string; constraint: string },
    caller: Caller,
  ): { ok: true; outcome: InvalidateOutcome } | { ok: false; message: string } {
    const writer = { identity: caller.identity, admin: caller.roles.has("admin") };
    const outcome: InvalidateOutcome = { removed: 0, refused: 0, message: "" };
    const refuse = (message: string) => {
      outcome.refused++;
      if (outcome.message === "") outcome.message = message;
    };
    if (sel.name !== "") {
      if (sel.type === "") return { ok: false, message: "invalidating by name needs the ad type" };
      const r = this.store.invalidate(sel.type, sel.name, writer);
      if (!r.ok) refuse(r.message);
      else if (r.removed) outcome.removed++;
      return { ok: true, outcome };
    }
    if (sel.constraint.trim() === "") {
      return { ok: false, message: "give a name or a constraint (use 'true' to mean every ad)" };
    }
    const c = this.constraint(sel.constraint);
    if (!c.ok) return c;
    for (const s of this.select(sel.type, c.test)) {
      const r = this.store.invalidate(s.type, s.name, writer);
      if (!r.ok) refuse(r.message);
      else if (r.removed) outcome.removed++;
    }
    return { ok: true, outcome };
  }

  /** Drop ads whose lifetime has passed. */
  expire(): number {
    return this.store.expire(this.opts.clock.now());
  }

  /** Put back an ad from a snapshot with its original LastHeardFrom and deadline. */
  restore(
    attrs: Readonly<Record<string, string>>,
    identity: string,
    lastHeard: number,
    expiresAt: number,
  ): boolean {
    const built = buildAd(attrs, "", this.interner, {
      maxAdBytes: Infinity,
      maxAttributes: Infinity,
    });
    if (!built.ok || expiresAt <= this.opts.clock.now()) return false;
    stamp(built.ad, this.interner, "AuthenticatedIdentity", unparseValue(identity));
    stamp(built.ad, this.interner, "LastHeardFrom", String(Math.floor(lastHeard / 1000)));
    const writer = { identity, admin: true };
    return this.store.upsert(
      built.type,
      built.name,
      built.ad,
      writer,
      expiresAt - lastHeard,
      lastHeard,
    ).ok;
  }

  /** Store the collector's own ad: counts per type and update rates over the last minute. */
  publishSelf(extra: Record<string, string> = {}, lifetimeSeconds = 180): void {
    const now = this.opts.clock.now();
    const attrs: Record<string, string> = {
      MyType: '"Collector"',
      Name: unparseValue(this.opts.name),
      DaemonStartTime: String(Math.floor(this.startedAt / 1000)),
      UpdatesTotal: String(this.updates.total),
      UpdatesLastMinute: String(this.updates.lastWindow(now)),
      UpdatesPerSecond: this.updates.perSecond(now).toFixed(3),
      ClassAdLifetime: String(lifetimeSeconds),
      ...extra,
    };
    let total = 0;
    for (const [type, n] of this.store.countsByType()) {
      if (type.toLowerCase() === "collector") continue;
      attrs[`${type}Ads`] = String(n);
      total += n;
    }
    attrs.TotalAds = String(total);
    const [r] = this.advertise([attrs], "Collector", this.self);
    if (r && !r.ok) throw new Error(`own Collector ad refused: ${r.message}`);
  }
}
