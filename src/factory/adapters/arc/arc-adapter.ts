/**
 * The `arc` grid adapter: pilots as jobs on an ARC CE through A-REX's REST 1.0 interface.
 *
 * submit   journal the intents, POST the batch (xRSL or ADL), journal the CE ids, upload the
 *          wrapper and pilot command into each session directory
 * status   one POST ?action=status for all handles; for jobs whose payload may have ended, the
 *          exit code from the job's diag (A-REX notices the end only at its next LRMS scan)
 * remove   drop the wrapper's stop file into the session, then POST ?action=kill
 * purge    POST ?action=clean, sent again on later status calls (across restarts) until the CE
 *          no longer knows the job
 * recover  the journal, plus a lookup by job name for pilots sent but never recorded
 *
 * With `frontend_tokens`, each pilot goes to the CE with the bearer token its frontend sent for
 * this CE (PilotSpec.submitTokenFile), and every later call about the job carries that same file
 * (journaled with the job), which the factory rewrites as renewed tokens arrive. A-REX keeps a
 * job for the token's subject (`iss` and `sub`) alone: a renewed token of the same subject sees
 * it, another subject's gets 404.
 *
 * Nothing here throws at the factory for a CE that refuses, times out or talks nonsense: submit
 * gives per-pilot errors, status gives recoverable holds with the reason.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type {
  AdapterContext,
  GridAdapter,
  PilotOutput,
  PilotSpec,
  PilotStatus,
  RecoveredPilot,
  SubmitResult,
} from "../types.js";
import { createDelegations } from "./delegations.js";
import { STDERR, STDOUT, describeBatch, type ArcJob } from "./job-description.js";
import { openJournal, type JournalRecord } from "./journal.js";
import { ArcHttpError, createArcRestClient, snippet, type ArcRestClient } from "./rest-client.js";
import { parseArcSettings, type ArcSettings } from "./settings.js";
import {
  ArcProtocolError,
  classifyArcState,
  normaliseJobIds,
  normaliseJobList,
  parseDiagExitCode,
  toPilotStatus,
  type ArcJobEntry,
} from "./states.js";
import { STOP_FILE, WRAPPER_NAME, WRAPPER_SCRIPT } from "./wrapper.js";
import { FileTooLargeError, readBounded, readHead } from "../../../common/bounded-read.js";

/** Largest pilot command sent to A-REX as a job input (the bootstrap script). */
const MAX_PILOT_COMMAND_BYTES = 16 << 20;

/** Ids per bulk status/kill/clean call. */
const BULK = 100;

/** How often jobs the CE did not clean when asked are asked about again. */
const CLEAN_RETRY_MS = 60_000;

const chunks = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The session file name for the pilot command: its own name when that is a plain one. */
export function commandFileName(command: string): string {
  const b = basename(command);
  const plain =
    /^[A-Za-z0-9._-]+$/.test(b) && ![WRAPPER_NAME, STOP_FILE, STDOUT, STDERR].includes(b);
  return plain && !b.startsWith(".") ? b : "updraft-pilot";
}

export function createArcAdapter(raw: Record<string, unknown>, ctx: AdapterContext): GridAdapter {
  const settings: ArcSettings = parseArcSettings(raw);
  const client: ArcRestClient = createArcRestClient(settings);
  mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
  const journal = openJournal(join(ctx.stateDir, "arc-jobs.jsonl"));
  const tag = stateTag(ctx.stateDir);
  const log = ctx.logger.child({ adapter: "arc", endpoint: settings.endpoint });
  const delegations = createDelegations({
    client,
    journal,
    lifetimeHours: settings.delegation_lifetime_h,
    marginS: settings.delegation_renew_margin_s,
    now: ctx.now,
    logger: log,
  });
  /** Statuses that can no longer change, so their diag is read once. */
  const final = new Map<string, PilotStatus>();

  const jobName = (intentId: number) => `updraft-${tag}-${intentId}`;
  let lastCleanAttempt = -Infinity;

  function toJob(p: PilotSpec, delegationId: string | undefined): ArcJob {
    const cpus = settings.cpus ?? p.resources.cpus;
    const memoryMb = settings.memory_mb ?? p.resources.memoryMb;
    const walltimeS = settings.walltime_s ?? p.resources.walltimeS;
    return {
      name: jobName(p.intentId),
      wrapper: WRAPPER_NAME,
      command: commandFileName(p.command),
      args: p.args,
      env: {
        UPDRAFT_PILOT_ID: String(p.intentId),
        UPDRAFT_PILOT_CPUS: String(cpus),
        UPDRAFT_PILOT_MEMORY_MB: String(memoryMb),
        UPDRAFT_PILOT_WALLTIME_S: String(walltimeS),
        ...p.env,
      },
      cpus,
      memoryMb,
      walltimeS,
      queue: settings.queue,
      runtimeEnvironments: settings.runtime_environments,
      delegationId,
    };
  }

  /** The token file calls about this job (or pending job name) carry, if the entry uses them. */
  const bearerOf = (idOrName: string) => {
    const b = journal.state.bearers.get(idOrName);
    return b !== undefined ? { bearer: b } : {};
  };

  async function put(id: string, file: string, body: Buffer | string): Promise<void> {
    const path = `/jobs/${encodeURIComponent(id)}/session/${encodeURIComponent(file)}`;
    const res = await client.call("PUT", path, { body, ...bearerOf(id) });
    if (res.status < 200 || res.status > 299) {
      throw new ArcHttpError(`PUT ${path}: HTTP ${res.status} ${snippet(res.body)}`, res.status);
    }
  }

  async function get(id: string, path: string): Promise<string | undefined> {
    const res = await client.call("GET", path, { accept: "*/*", ...bearerOf(id) });
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status > 299) {
      throw new ArcHttpError(`GET ${path}: HTTP ${res.status} ${snippet(res.body)}`, res.status);
    }
    return res.body.toString("utf8");
  }

  const diagnose = (id: string, what: string) =>
    get(id, `/jobs/${encodeURIComponent(id)}/diagnose/${what}`).catch(() => undefined);

  /** One action on jobs of one owner: all carry `bearer` (or the entry's own credential). */
  async function bulkAs(
    action: string,
    ids: readonly string[],
    bearer: string | undefined,
  ): Promise<ArcJobEntry[]> {
    const out: ArcJobEntry[] = [];
    for (const part of chunks(ids, BULK)) {
      const body = await client.postJson(
        `/jobs?action=${action}`,
        { job: part.map((id) => ({ id })) },
        bearer,
      );
      out.push(...normaliseJobList(body, `POST /jobs?action=${action}`));
    }
    return out;
  }

  /**
   * One action on jobs, one call per owner (the token file each job was submitted with). One
   * owner's failure (its token expired or gone) fails only its own jobs' calls.
   */
  async function bulk(
    action: string,
    ids: readonly string[],
  ): Promise<{ entries: ArcJobEntry[]; failed: { ids: string[]; err: unknown }[] }> {
    const owners = new Map<string | undefined, string[]>();
    for (const id of ids) {
      const b = journal.state.bearers.get(id);
      const list = owners.get(b);
      if (list) list.push(id);
      else owners.set(b, [id]);
    }
    const entries: ArcJobEntry[] = [];
    const failed: { ids: string[]; err: unknown }[] = [];
    for (const [bearer, group] of owners) {
      try {
        entries.push(...(await bulkAs(action, group, bearer)));
      } catch (err) {
        failed.push({ ids: group, err });
      }
    }
    return { entries, failed };
  }

  /**
   * Ask the CE to clean jobs the factory is done with (already journaled as purged). A-REX queues
   * a clean (202) and drops the job later, once it has ended; until it answers that it no longer
   * knows the job (404), the job stays unclean and is asked about again, so a clean the CE took
   * but never carried out (or never heard, when it did not answer) still happens.
   */
  async function cleanOnCe(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    lastCleanAttempt = ctx.now();
    const cleaned: JournalRecord[] = [];
    const r = await bulk("clean", ids);
    for (const e of r.entries) {
      if (e.id && e.code === 404) cleaned.push({ t: "cleaned", id: e.id });
      else if (e.code !== 202 && e.code !== 200) {
        log.info(
          { handle: e.id, code: e.code, reason: e.reason },
          "the CE refused to clean a job; asking again later",
        );
      }
    }
    for (const f of r.failed) {
      log.warn(
        { err: f.err, jobs: f.ids.length },
        "clean request to the CE failed; asking again later",
      );
    }
    journal.append(cleaned);
  }

  async function statusOne(entry: ArcJobEntry, handle: string): Promise<PilotStatus> {
    if ((entry.code === 404 || entry.state === "WIPED") && journal.state.removed.has(handle)) {
      return { handle, state: "Removed" };
    }
    const c = classifyArcState(entry.state);
    if (entry.code !== 200 || c.kind !== "exited" || (c.ended && !c.failed)) {
      const s = toPilotStatus(handle, entry);
      if (c.kind === "exited" && c.ended) final.set(handle, s);
      return s;
    }
    const diag = await diagnose(handle, "diag");
    const errors = c.failed ? ((await diagnose(handle, "errors")) ?? "") : "";
    const s = toPilotStatus(handle, entry, {
      exitCode: diag === undefined ? undefined : parseDiagExitCode(diag),
      errors,
    });
    if (c.ended || s.state === "Finished" || s.state === "Held") final.set(handle, s);
    return s;
  }

  async function statusOf(handles: readonly string[]): Promise<Map<string, PilotStatus>> {
    const out = new Map<string, PilotStatus>();
    const ask = handles.filter((h) => {
      const f = final.get(h);
      if (f) out.set(h, f);
      return !f;
    });
    if (ask.length === 0) return out;
    const { entries, failed } = await bulk("status", ask);
    for (const f of failed) {
      log.warn({ err: f.err, jobs: f.ids.length }, "status query to the CE failed");
      for (const h of f.ids) {
        out.set(h, {
          handle: h,
          state: "Held",
          holdReason: `the CE did not answer the status query: ${message(f.err)}`,
          holdRecoverable: true,
        });
      }
    }
    const byId = new Map(entries.filter((e) => e.id !== undefined).map((e) => [e.id!, e]));
    await Promise.all(
      ask
        .filter((h) => !out.has(h))
        .map(async (h) => {
          const e = byId.get(h);
          out.set(
            h,
            e
              ? await statusOne(e, h)
              : {
                  handle: h,
                  state: "Held",
                  holdReason: "the CE's status answer left this job out",
                  holdRecoverable: true,
                },
          );
        }),
    );
    return out;
  }

  async function submitChunk(
    batch: readonly PilotSpec[],
    bearer: string | undefined,
  ): Promise<SubmitResult[]> {
    if (settings.frontend_tokens && bearer === undefined) {
      return batch.map((p) => ({
        intentId: p.intentId,
        ok: false,
        error:
          "this entry submits with its frontends' CE tokens (frontend_tokens) and the request carried none",
      }));
    }
    const withBearer = bearer !== undefined ? { bearer } : {};
    const results = new Map<number, SubmitResult>();
    const ready: { i: number; p: PilotSpec; job: ArcJob; command: Buffer }[] = [];
    for (const [i, p] of batch.entries()) {
      try {
        const command = readBounded(p.command, MAX_PILOT_COMMAND_BYTES);
        if (command === undefined) {
          throw new FileTooLargeError(p.command, MAX_PILOT_COMMAND_BYTES);
        }
        const delegationId = p.credentialFile
          ? await delegations.ensure(p.credentialFile, bearer)
          : undefined;
        ready.push({ i, p, job: toJob(p, delegationId), command });
      } catch (err) {
        results.set(i, { intentId: p.intentId, ok: false, error: message(err) });
      }
    }
    if (ready.length > 0) {
      journal.append(
        ready.map(({ job, p }) => ({
          t: "intent",
          intent: p.intentId,
          name: job.name,
          ...withBearer,
        })),
      );
      let entries: ArcJobEntry[] | undefined;
      let failure = "";
      // An HTTP refusal made no jobs; after a timeout or a garbled answer they may exist.
      let refused = false;
      try {
        const description = describeBatch(
          settings.dialect,
          ready.map((r) => r.job),
        );
        const res = await client.call("POST", "/jobs?action=new", {
          body: description,
          contentType: settings.dialect === "xrsl" ? "application/rsl" : "application/xml",
          ...withBearer,
        });
        if (res.status !== 201 && res.status !== 200) {
          failure = `the CE refused the submission: HTTP ${res.status} ${snippet(res.body)}`;
          refused = true;
        } else {
          let parsed: unknown;
          try {
            parsed = JSON.parse(res.body.toString("utf8"));
          } catch {
            throw new ArcProtocolError(
              `the CE's answer to the submission is not JSON: ${snippet(res.body)}`,
            );
          }
          entries = normaliseJobList(parsed, "POST /jobs?action=new");
          if (entries.length !== ready.length) {
            throw new ArcProtocolError(
              `the CE answered ${entries.length} jobs for a batch of ${ready.length}; ` +
                "the jobs it made are found again by name on recovery",
            );
          }
        }
      } catch (err) {
        failure = message(err);
        entries = undefined;
      }
      const records: JournalRecord[] = [];
      const accepted: { i: number; id: string; command: Buffer; name: string }[] = [];
      ready.forEach(({ i, p, job, command }, k) => {
        const e = entries?.[k];
        if (!entries) {
          results.set(i, { intentId: p.intentId, ok: false, error: failure });
          // Jobs that may exist stay pending: recovery looks for them by name.
          if (refused) records.push({ t: "failed", name: job.name });
        } else if (e && e.code === 201 && e.id) {
          records.push({ t: "job", intent: p.intentId, name: job.name, id: e.id, ...withBearer });
          accepted.push({ i, id: e.id, command, name: job.command });
        } else {
          records.push({ t: "failed", name: job.name });
          results.set(i, {
            intentId: p.intentId,
            ok: false,
            error: `the CE refused the pilot: ${e?.code ?? "?"} ${e?.reason || "no reason given"}`,
          });
        }
      });
      journal.append(records);
      await Promise.all(
        accepted.map(async ({ i, id, command, name }) => {
          const p = batch[i]!;
          try {
            await put(id, WRAPPER_NAME, WRAPPER_SCRIPT);
            await put(id, name, command);
            results.set(i, { intentId: p.intentId, ok: true, handle: id });
          } catch (err) {
            // Without its inputs the job would wait forever; take it back.
            await bulk("kill", [id]);
            journal.append([{ t: "purge", id }]);
            await cleanOnCe([id]);
            results.set(i, {
              intentId: p.intentId,
              ok: false,
              error: `uploading the pilot's files failed: ${message(err)}`,
            });
          }
        }),
      );
    }
    return batch.map(
      (p, i) => results.get(i) ?? { intentId: p.intentId, ok: false, error: "not submitted" },
    );
  }

  /** Jobs sent but never recorded (a crash mid-submit): found on the CE by their job name. */
  async function resolvePending(): Promise<void> {
    const pending = journal.state.pending;
    if (pending.size === 0) return;
    // Each owner lists only its own jobs: ask once per token file the pending jobs were sent with.
    const owners = new Set([...pending.keys()].map((name) => journal.state.bearers.get(name)));
    const records: JournalRecord[] = [];
    for (const bearer of owners) {
      const res = await client.call("GET", "/jobs", bearer !== undefined ? { bearer } : {});
      if (res.status !== 200) {
        throw new ArcHttpError(`GET /jobs: HTTP ${res.status} ${snippet(res.body)}`, res.status);
      }
      const ids = normaliseJobIds(JSON.parse(res.body.toString("utf8")), "GET /jobs").filter(
        (id) => !journal.state.jobs.has(id),
      );
      if (ids.length === 0) continue;
      for (const e of await bulkAs("info", ids, bearer)) {
        const doc = e.raw.info_document as { ComputingActivity?: { Name?: unknown } } | undefined;
        const name = doc?.ComputingActivity?.Name;
        if (typeof name !== "string" || !e.id) continue;
        const intent = pending.get(name);
        if (intent === undefined || journal.state.bearers.get(name) !== bearer) continue;
        records.push({
          t: "job",
          intent,
          name,
          id: e.id,
          ...(bearer !== undefined ? { bearer } : {}),
        });
      }
    }
    const found = new Set(records.map((r) => (r.t === "job" ? r.name : "")));
    for (const name of pending.keys()) {
      if (!found.has(name)) records.push({ t: "failed", name });
    }
    journal.append(records);
    log.info(
      { found: found.size, missing: pending.size - found.size },
      "looked up unrecorded submissions on the CE",
    );
  }

  return {
    gridtype: "arc",
    capabilities: {
      release: false,
      maxBatch: settings.max_batch,
      output: true,
      submitToken: settings.frontend_tokens,
    },

    async submit(batch: readonly PilotSpec[]): Promise<SubmitResult[]> {
      // One owner per POST; a token is used only by an entry that submits with frontend tokens.
      const byOwner = new Map<string | undefined, PilotSpec[]>();
      for (const p of batch) {
        const b = settings.frontend_tokens ? p.submitTokenFile : undefined;
        byOwner.set(b, [...(byOwner.get(b) ?? []), p]);
      }
      const results = new Map<number, SubmitResult>();
      for (const [bearer, specs] of byOwner) {
        for (const part of chunks(specs, settings.max_batch)) {
          for (const r of await submitChunk(part, bearer)) results.set(r.intentId, r);
        }
      }
      return batch.map(
        (p) =>
          results.get(p.intentId) ?? { intentId: p.intentId, ok: false, error: "not submitted" },
      );
    },

    async status(handles: readonly string[]): Promise<Map<string, PilotStatus>> {
      await delegations.renewDue();
      if (journal.state.unclean.size > 0 && ctx.now() - lastCleanAttempt >= CLEAN_RETRY_MS) {
        await cleanOnCe([...journal.state.unclean]);
      }
      return statusOf(handles);
    },

    async remove(handles: readonly string[]): Promise<void> {
      if (handles.length === 0) return;
      journal.append(handles.map((id) => ({ t: "removed", id })));
      // The stop file reaches the pilot's children, which an LRMS kill of the job script may not.
      await Promise.all(handles.map((h) => put(h, STOP_FILE, "").catch(() => undefined)));
      const r = await bulk("kill", handles);
      for (const e of r.entries) {
        if (e.code !== 202 && e.code !== 200 && e.code !== 404) {
          log.warn({ handle: e.id, code: e.code, reason: e.reason }, "the CE refused a kill");
        }
      }
      for (const f of r.failed) {
        log.warn({ err: f.err, jobs: f.ids.length }, "kill request to the CE failed");
      }
      for (const h of handles) final.delete(h);
    },

    async fetchOutput(handle: string): Promise<PilotOutput> {
      const base = `/jobs/${encodeURIComponent(handle)}/session/`;
      const read = async (f: string) => {
        try {
          return tail((await get(handle, base + f)) ?? "", settings.max_output_bytes);
        } catch (err) {
          log.warn({ err, handle }, `fetching ${f} failed`);
          return "";
        }
      };
      const [stdout, stderr] = await Promise.all([read(STDOUT), read(STDERR)]);
      if (final.get(handle)?.state !== "Held") return { stdout, stderr };
      const errors = (await diagnose(handle, "errors")) ?? "";
      return {
        stdout,
        stderr:
          (stderr === "" || stderr.endsWith("\n") ? stderr : stderr + "\n") +
          `--- CE diagnostics (errors) ---\n${tail(errors, settings.max_output_bytes)}`,
      };
    },

    async recover(): Promise<RecoveredPilot[]> {
      try {
        await resolvePending();
      } catch (err) {
        log.warn({ err }, "could not look up unrecorded submissions; will retry on next recover");
      }
      const jobs = [...journal.state.jobs];
      const statuses = await statusOf(jobs.map(([id]) => id));
      return jobs.map(([id, j]) => ({ intentId: j.intent, handle: id, status: statuses.get(id)! }));
    },

    async purge(handles: readonly string[]): Promise<void> {
      if (handles.length === 0) return;
      journal.append(handles.map((id) => ({ t: "purge", id })));
      for (const h of handles) final.delete(h);
      await cleanOnCe(handles);
    },

    async close(): Promise<void> {
      client.close();
    },
  };
}

/** A random tag per state directory, so job names from two factories never collide. */
function stateTag(dir: string): string {
  const file = join(dir, "arc-tag");
  try {
    return readHead(file, 256).toString("utf8").trim();
  } catch {
    const tag = randomBytes(4).toString("hex");
    writeFileSync(file, tag + "\n", { mode: 0o600 });
    return tag;
  }
}

function tail(text: string, max: number): string {
  const b = Buffer.from(text, "utf8");
  return b.length <= max ? text : b.subarray(b.length - max).toString("utf8");
}
