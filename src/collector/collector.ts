/**
 * The collector's core: advertise, invalidate and query over the ad store, with per-type write
 * roles, owner checks and limits. No sockets and no timers; time comes from the injected clock,
 * so everything here is testable directly and the service only translates to and from the wire.
 */
import { AD_TYPE, COMMON, SLOT, writeCollector } from "../ads/index.js";
import {
  ClassAd,
  compileExpression,
  isTrueEquivalent,
  tryParse,
  unparseValue,
  type CompiledExpr,
  type EvalBudget,
} from "../classad/index.js";
import type { FnContext } from "../classad/functions/index.js";
import type { Clock } from "../common/clock.js";
import {
  type AdLimits,
  AdBuilder,
  type BuiltAd,
  type PreviousAd,
  type Stamp,
  applyStamp,
} from "./ad-build.js";
import { AttrInterner, type TextEntry } from "./intern.js";
import {
  pilotBindingClaim,
  trustedSlotAttrs,
  type PilotBinding,
} from "../security/pilot-binding.js";
import { PilotSlotIndex } from "./pilot-slots.js";
import { conjunctFilters } from "./prefilter.js";
import { RateWindow } from "./rate-window.js";
import { AdStore, type StoredAd } from "./store.js";
import { type RawBatch, batchSize } from "./wire-batch.js";

export interface Caller {
  identity: string;
  roles: ReadonlySet<string>;
  /** A pilot credential's binding: its Slot ads must say what the binding says. */
  pilotBinding?: PilotBinding | undefined;
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
  /** The Slot attribute naming a pilot's entry (default GLIDEIN_Entry_Name). */
  slotEntryAttribute?: string;
  /** Types whose ads are kept per writer (see store.ts). */
  perWriterTypes?: readonly string[];
  /**
   * `require_pilot_binding`: Slot ads only from credentials with a pilot binding (admins aside),
   * so a shared pilot credential copied off a node cannot write slots the frontend counts.
   */
  requirePilotBinding?: boolean;
}

export type Constraint =
  { ok: true; test: (ad: ClassAd) => boolean } | { ok: false; message: string };

const ACCEPT_ALL = (): boolean => true;
const SLOT_TYPE = AD_TYPE.Slot.toLowerCase();

interface WriteContext {
  caller: Caller;
  now: number;
  writer: { identity: string; admin: boolean };
  identity: Stamp;
  heard: Stamp;
}

export class CollectorCore {
  readonly store: AdStore<ClassAd>;
  readonly interner = new AttrInterner();
  readonly builder: AdBuilder;
  private readonly previous: PreviousAd;
  readonly updates = new RateWindow();
  readonly startedAt: number;
  /** `time()` inside constraints follows the injected clock. */
  readonly fnContext: FnContext;
  /** The collector writing its own ad: not counted as an update. */
  private readonly self: Caller;
  /** Bound pilots' Slot ads: one pilot name each, a bounded number (see pilot-slots.ts). */
  readonly pilotSlots = new PilotSlotIndex();

  constructor(private readonly opts: CollectorCoreOptions) {
    this.store = new AdStore<ClassAd>(
      { maxAdsPerIdentity: opts.limits.maxAdsPerIdentity },
      opts.perWriterTypes,
    );
    this.startedAt = opts.clock.now();
    this.fnContext = { now: () => Math.floor(opts.clock.now() / 1000) };
    this.self = { identity: opts.identity, roles: new Set(["admin"]) };
    this.builder = new AdBuilder(this.interner, opts.limits);
    this.previous = (type, name) => this.store.get(type, name)?.ad;
    this.store.subscribe((e) => {
      if (e.kind !== "upserted" && e.ad.type.toLowerCase() === SLOT_TYPE) {
        this.pilotSlots.removed(e.ad.identity, e.ad.name);
      }
    });
  }

  /** Insert or replace each ad of a received batch; one outcome per ad, in order. */
  advertiseBatch(batch: RawBatch, caller: Caller): AdOutcome[] {
    const out: AdOutcome[] = [];
    const n = batchSize(batch);
    const ctx = this.writeContext(caller);
    for (let i = 0; i < n; i++) {
      out.push(this.put(this.builder.fromBatch(batch, i, batch.type, this.previous), ctx));
    }
    return out;
  }

  /** Insert or replace ads given as name -> text maps. A refused ad does not stop the rest. */
  advertise(
    ads: readonly Readonly<Record<string, string>>[],
    defaultType: string,
    caller: Caller,
  ): AdOutcome[] {
    const ctx = this.writeContext(caller);
    return ads.map((attrs) => this.put(this.builder.fromAttrs(attrs, defaultType), ctx));
  }

  private writeContext(caller: Caller): WriteContext {
    const now = this.opts.clock.now();
    return {
      caller,
      now,
      writer: { identity: caller.identity, admin: caller.roles.has("admin") },
      identity: this.builder.stamp(COMMON.AuthenticatedIdentity, unparseValue(caller.identity)),
      heard: this.builder.stamp(COMMON.LastHeardFrom, String(Math.floor(now / 1000))),
    };
  }

  private put(built: BuiltAd, ctx: WriteContext): AdOutcome {
    if (!built.ok) return { ...built, ok: false, replaced: false, type: "", name: "" };
    const { ad, type, name } = built;
    const { caller, writer, now } = ctx;
    const base = { type, name, attribute: "", replaced: false };
    if (!writer.admin && !this.mayWrite(type, caller.roles)) {
      const needs = this.opts.writeRolesFor(type);
      return {
        ...base,
        ok: false,
        code: "permission-denied",
        attribute: COMMON.MyType,
        message:
          needs.length === 0
            ? `${type} ads are written only by the collector itself`
            : `writing ${type} ads needs role ${needs.join(" or ")}; ${caller.identity} has ${[...caller.roles].join(", ") || "none"}`,
      };
    }
    const isSlot = type.toLowerCase() === SLOT_TYPE;
    const boundSlot = caller.pilotBinding !== undefined && isSlot;
    const totalCpus = boundSlot ? ad.getNumber(SLOT.TotalCpus) : undefined;
    if (boundSlot) {
      const refused =
        this.bindSlot(ad, caller.pilotBinding!) ??
        this.pilotSlots.check(caller.identity, name, totalCpus);
      if (refused !== undefined) {
        return { ...base, ok: false, code: "permission-denied", ...refused };
      }
    } else if (isSlot && !writer.admin && this.opts.requirePilotBinding === true) {
      return {
        ...base,
        ok: false,
        code: "permission-denied",
        attribute: COMMON.MyType,
        message: `this collector takes Slot ads only from pilot credentials with a binding; ${caller.identity} has none`,
      };
    } else if (isSlot && !writer.admin && ad.entries.has(SLOT.PilotBinding.toLowerCase())) {
      // Only the collector writes a binding, from a verified token: the frontend renews tokens
      // with what it reads there, so a writer without one must not supply its own (admins, who
      // may write any ad, aside).
      return {
        ...base,
        ok: false,
        code: "permission-denied",
        attribute: SLOT.PilotBinding,
        message: `${SLOT.PilotBinding} is set by the collector from a pilot token's binding; ${caller.identity} has none`,
      };
    }
    applyStamp(ad, ctx.identity);
    applyStamp(ad, ctx.heard);
    const seconds = Math.min(built.lifetime ?? this.opts.lifetimeFor(type), this.opts.maxLifetime);
    const r = this.store.upsert(type, name, ad, writer, seconds * 1000, now);
    if (!r.ok) {
      const notOwner = r.code === "not-owner";
      return {
        ...base,
        ok: false,
        code: notOwner ? "permission-denied" : "resource-exhausted",
        message: r.message,
        attribute: notOwner ? COMMON.Name : "",
      };
    }
    if (boundSlot) this.pilotSlots.added(caller.identity, name, totalCpus);
    if (caller !== this.self) this.updates.add(now);
    // Accepted ads are answered by position only: encoding every name back cost a tenth of an update.
    return {
      ok: true,
      code: "",
      message: "",
      attribute: "",
      replaced: r.replaced,
      type: "",
      name: "",
    };
  }

  /**
   * A bound pilot's Slot ad carries its binding's site, entry, group and frontend, whatever the
   * pilot wrote: a value that contradicts the binding refuses the ad (a stolen credential used to
   * pass as another entry's pilot), a missing one is filled in.
   */
  private bindSlot(
    ad: ClassAd,
    b: PilotBinding,
  ): { attribute: string; message: string } | undefined {
    const stamps: Stamp[] = [];
    for (const [name, value] of trustedSlotAttrs(b, this.opts.slotEntryAttribute)) {
      const stamp = this.builder.stamp(name, unparseValue(value));
      const sent = ad.entries.get(stamp.key);
      if (sent !== undefined && (sent as Partial<TextEntry>).text?.trim() !== stamp.entry.text) {
        return {
          attribute: name,
          message: `Slot ad's ${name} contradicts the pilot credential's binding (${stamp.entry.text})`,
        };
      }
      stamps.push(stamp);
    }
    // The whole binding, as verified, whatever the pilot wrote: the frontend renews a pilot's
    // token with exactly this binding (see frontend/pilot-renewal.ts).
    const claim = unparseValue(JSON.stringify(pilotBindingClaim(b)));
    stamps.push(this.builder.stamp(SLOT.PilotBinding, claim));
    for (const s of stamps) applyStamp(ad, s);
    return undefined;
  }

  private mayWrite(type: string, roles: ReadonlySet<string>): boolean {
    return this.opts.writeRolesFor(type).some((r) => roles.has(r));
  }

  /**
   * A constraint expression as a predicate; an empty text accepts every ad. With a budget, every
   * evaluation draws on it (a query's steps), and a bound met is recorded there.
   */
  constraint(text: string, budget?: EvalBudget): Constraint {
    if (text.trim() === "") return { ok: true, test: ACCEPT_ALL };
    const parsed = tryParse(() => compileExpression(text));
    if (!parsed.ok) return { ok: false, message: `constraint: ${parsed.error.message}` };
    const compiled: CompiledExpr = parsed.value;
    const options = { ctx: budget === undefined ? this.fnContext : { ...this.fnContext, budget } };
    const filters = conjunctFilters(compiled.expr, this.fnContext);
    return {
      ok: true,
      test: (ad) => {
        for (const f of filters) if (!f.passes(f.entryOf(ad))) return false;
        return isTrueEquivalent(ad.evaluateExpr(compiled, null, options));
      },
    };
  }

  /** Ads of `type` (every type when empty) accepted by `test`, at most `limit` (0: no limit). */
  select(type: string, test: (ad: ClassAd) => boolean, limit = 0): StoredAd<ClassAd>[] {
    const out: StoredAd<ClassAd>[] = [];
    const max = limit > 0 ? limit : Infinity;
    this.store.scan(type === "" ? undefined : type, (s) => {
      if (test(s.ad)) out.push(s);
      return out.length < max;
    });
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
      const r = this.store.invalidate(s.type, s.name, writer, s.identity);
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
    // Limits applied when the ad was first advertised; a smaller limit now does not drop it.
    const built = this.builder.fromAttrs(attrs, "", false);
    if (!built.ok || expiresAt <= this.opts.clock.now()) return false;
    applyStamp(built.ad, this.builder.stamp(COMMON.AuthenticatedIdentity, unparseValue(identity)));
    applyStamp(
      built.ad,
      this.builder.stamp(COMMON.LastHeardFrom, String(Math.floor(lastHeard / 1000))),
    );
    const writer = { identity, admin: true };
    const { type, name, ad } = built;
    const ok = this.store.upsert(type, name, ad, writer, expiresAt - lastHeard, lastHeard).ok;
    // A bound pilot's Slot ads (the collector wrote their binding) count against its bound again,
    // or a restart would let a stolen pilot token advertise past it and under other pilots' names.
    if (ok && type.toLowerCase() === SLOT_TYPE && ad.entries.has(SLOT.PilotBinding.toLowerCase())) {
      this.pilotSlots.added(identity, name, ad.getNumber(SLOT.TotalCpus));
    }
    return ok;
  }

  /** Store the collector's own ad: counts per type and update rates over the last minute. */
  publishSelf(extra: Record<string, string> = {}, lifetimeSeconds = 180): void {
    const now = this.opts.clock.now();
    const adsByType: Record<string, number> = {};
    for (const [type, n] of this.store.countsByType()) {
      if (type.toLowerCase() !== "collector") adsByType[type] = n;
    }
    const own = writeCollector({
      name: this.opts.name,
      daemonStartTimeS: Math.floor(this.startedAt / 1000),
      updatesTotal: this.updates.total,
      updatesLastMinute: this.updates.lastWindow(now),
      updatesPerSecond: this.updates.perSecond(now),
      lifetimeS: lifetimeSeconds,
      adsByType,
    });
    // The extra attributes (addresses, limits) go in before the counts, which always win.
    const attrs = { ...extra, ...own.toJSON() };
    const [r] = this.advertise([attrs], AD_TYPE.Collector, this.self);
    if (r && !r.ok) throw new Error(`own Collector ad refused: ${r.message}`);
  }
}
