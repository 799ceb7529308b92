/**
 * RPC handlers for users and frontends: reserve and submit clusters, query, act, edit, and the
 * frontends' IdleSummary. Handlers translate between wire and queue and enforce ownership; the
 * decisions live in the queue and its pure helpers.
 */
import { ClassAd, references, parseExpression } from "../classad/index.js";
import type { RpcServer, WireClassAd } from "../wire/index.js";
import {
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  AlreadyExistsError,
} from "../wire/index.js";
import { summarizeIdle } from "./idle-summary.js";
import { SCHEDD_METHODS as M } from "./messages.js";
import { parseJobId } from "./job-status.js";
import { act, compileConstraint, edit, query, type Action } from "./queue-actions.js";
import { callerOf, COMPUTE_SCOPE, requireScope, type ServiceDeps } from "./service-context.js";
import { epochSeconds } from "./transitions.js";

const USERS = ["user", "admin"];
const READERS = ["user", "admin", "read"];
const ACTIONS = new Set<Action>(["remove", "hold", "release"]);
const ACTION_SCOPE: Record<Action, string> = {
  remove: COMPUTE_SCOPE.cancel,
  hold: COMPUTE_SCOPE.modify,
  release: COMPUTE_SCOPE.modify,
};

/**
 * A removed job's files go once the removal is committed, not at the next timed sweep: its owner
 * gets the spool space (`sandbox.quota_mb`) back at once, and a submit refused during upload
 * leaves no file behind. A job still in the queue (a running job being removed waits for its
 * pilot) keeps its sandbox, and a cluster's shared inputs stay while any of its jobs is queued.
 */
function dropRemovedSandboxes(deps: ServiceDeps, removed: readonly string[]): void {
  const clusters = new Set<number>();
  for (const id of removed) {
    const j = parseJobId(id);
    if (j?.proc === undefined || deps.queue.index.jobs.has(id)) continue;
    deps.sandboxes.drop(j.cluster, j.proc);
    clusters.add(j.cluster);
  }
  if (clusters.size === 0) return;
  for (const r of deps.queue.index.jobs.values()) clusters.delete(r.cluster);
  for (const c of clusters) deps.sandboxes.drop(c, undefined);
  deps.spoolQuota.forget();
}

export function registerUserMethods(server: RpcServer, deps: ServiceDeps): void {
  const { queue, clock } = deps;

  // Every handler that changes state awaits `committed()` before it answers: nothing is
  // acknowledged before it is in the database.
  const durable = () => queue.store.committed();

  server.unary(M.newCluster.name, { roles: USERS, ...codecs(M.newCluster) }, async (_req, ctx) => {
    requireScope(ctx, COMPUTE_SCOPE.create);
    const clusterId = queue.reserveCluster(callerOf(deps, ctx).user);
    await durable();
    return { clusterId };
  });

  server.unary(M.submitJobs.name, { roles: USERS, ...codecs(M.submitJobs) }, async (req, ctx) => {
    requireScope(ctx, COMPUTE_SCOPE.create);
    const caller = callerOf(deps, ctx);
    const r = queue.submit(
      req.clusterId,
      caller.user,
      req.jobs.map((j) => j.attrs),
      req.holdForInput,
      ctx.identity,
    );
    if (r.ok) {
      // Audit lines are logged before the commit, which writes them (ScheddStore's onCommit).
      ctx.log.info({ cluster: r.clusterId, count: r.count, owner: caller.user }, "submitted");
      await durable();
      return { clusterId: r.clusterId, count: r.count };
    }
    const E = {
      "not-found": NotFoundError,
      "permission-denied": PermissionDeniedError,
      "already-exists": AlreadyExistsError,
      "invalid-argument": InvalidArgumentError,
    }[r.code];
    throw new E(r.message);
  });

  server.stream(M.query.name, { roles: READERS, ...codecs(M.query) }, async (req, sink, ctx) => {
    requireScope(ctx, COMPUTE_SCOPE.read);
    if (typeof compileConstraint(req.constraint) === "string") {
      throw new InvalidArgumentError(compileConstraint(req.constraint) as string);
    }
    // Materialised before streaming: an open SQLite cursor would block every other handler
    // while this one waits on a slow reader.
    const owner = req.mine ? callerOf(deps, ctx).user : req.owner;
    let rows;
    try {
      rows = [...query(queue, { ...req, owner }, clock.now())];
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    for (const attrs of rows) {
      if (ctx.signal.aborted) return;
      await sink.write({ attrs });
    }
  });

  server.unary(M.act.name, { roles: USERS, ...codecs(M.act) }, async (req, ctx) => {
    if (!ACTIONS.has(req.action as Action)) {
      throw new InvalidArgumentError(`unknown action '${req.action}' (remove, hold, release)`);
    }
    requireScope(ctx, ACTION_SCOPE[req.action as Action]);
    const caller = callerOf(deps, ctx);
    const out = act(
      queue,
      req.action as Action,
      selectionOf(req.selection),
      req.reason,
      caller,
      clock.now(),
    );
    if (typeof out === "string") throw new InvalidArgumentError(out);
    ctx.log.info(
      {
        action: req.action,
        identity: ctx.identity,
        user: caller.user,
        done: auditIds(out.done),
        refused: auditIds(out.refused.map((r) => `${r.id}: ${r.reason}`)),
      },
      "act",
    );
    await durable();
    if (req.action === "remove") dropRemovedSandboxes(deps, out.done);
    return out;
  });

  server.unary(M.edit.name, { roles: USERS, ...codecs(M.edit) }, async (req, ctx) => {
    requireScope(ctx, COMPUTE_SCOPE.modify);
    const caller = callerOf(deps, ctx);
    if (req.attribute === "") throw new InvalidArgumentError("no attribute named");
    const out = edit(
      queue,
      selectionOf(req.selection),
      req.attribute,
      req.value,
      caller,
      clock.now(),
    );
    if (typeof out === "string") throw new InvalidArgumentError(out);
    // The attribute is named; its value is not logged (a user may put anything in it).
    ctx.log.info(
      {
        action: "edit",
        attribute: req.attribute.slice(0, 100),
        identity: ctx.identity,
        user: caller.user,
        done: auditIds(out.done),
        refused: auditIds(out.refused.map((r) => `${r.id}: ${r.reason}`)),
      },
      "edit",
    );
    await durable();
    return out;
  });

  server.unary(
    M.idleSummary.name,
    { roles: ["frontend", "admin"], ...codecs(M.idleSummary) },
    (req) => {
      const compiled = compileConstraint(req.constraint);
      if (typeof compiled === "string") throw new InvalidArgumentError(compiled);
      // Grouping works on autoclusters, so what the frontend reads must be significant.
      const names = new Set(req.matchAttributes.map((n) => n.toLowerCase()));
      if (req.constraint.trim() !== "") {
        for (const n of references(parseExpression(req.constraint), null).external) names.add(n);
      }
      queue.ensureSignificant(names);
      const sources = [...queue.index.idleAutoclusters()].map((ac) => ({
        representative: ac.representative,
        idleCount: ac.idleCount,
        ownerCounts: new Map([...ac.owners].map(([o, q]) => [o, q.count])),
      }));
      const groups = summarizeIdle(
        sources,
        compiled,
        req.matchAttributes,
        epochSeconds(clock.now()),
      );
      return {
        groups: groups.map((g) => ({
          count: g.count,
          owners: g.owners,
          representative: adToWire(g.representative),
        })),
        runningByEntry: Object.fromEntries(queue.index.runningByEntry),
        idleTotal: groups.reduce((n, g) => n + g.count, 0),
      };
    },
  );
}

function selectionOf(s: { ids: string[]; constraint: string; owner: string } | undefined) {
  return { ids: s?.ids ?? [], constraint: s?.constraint ?? "", owner: s?.owner ?? "" };
}

export function adToWire(ad: ClassAd): WireClassAd {
  return { attrs: ad.toJSON() };
}

export function codecs<Req, Res>(m: { request: Req; response: Res }) {
  return { request: m.request, response: m.response };
}

/** Job ids for the audit log, bounded: a removal of a million jobs logs a count past the first. */
function auditIds(ids: readonly string[]): string[] {
  const MAX = 50;
  return ids.length <= MAX ? [...ids] : [...ids.slice(0, MAX), `... ${ids.length - MAX} more`];
}
