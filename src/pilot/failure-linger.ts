/**
 * Failure linger, as glideinWMS: a pilot that failed validation keeps its batch slot for a while
 * instead of ending at once, so the batch system does not hand the same broken node the site's
 * next pilot a second later and the queue drains into it. Meanwhile it advertises a failure ad
 * (a `Slot` that matches nothing, with `GLIDEIN_Failed`, the class and the reason) so operators
 * see in `updraft status` which nodes are broken and why. The ad is best effort: validation may
 * have failed precisely because the collector cannot be reached.
 */
import { writeSlot } from "../ads/index.js";
import type { ClassAd } from "../classad/index.js";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { Attrs, PilotFailure } from "./failure.js";
import type { SlotAdvertiser } from "./interfaces.js";
import { slotName, type SlotIdentity } from "./slot-ad.js";

export interface FailureAdInput {
  id: SlotIdentity;
  published: Attrs;
  /** What validation found before it failed. */
  nodeAttrs: Attrs;
  failure: PilotFailure;
  exitCode: number;
  nowMs: number;
  untilMs: number;
}

const secs = (ms: number) => Math.floor(ms / 1000);

/** The failure ad, pure: no resources, START false, and why. */
export function buildFailureAd(x: FailureAdInput): ClassAd {
  return writeSlot(
    {
      name: slotName(x.id),
      machine: x.id.host,
      pilotId: x.id.pilotId,
      cpus: 0,
      memoryMb: 0,
      diskKb: 0,
      gpus: 0,
      totalCpus: 0,
      totalMemoryMb: 0,
      totalDiskKb: 0,
      totalGpus: 0,
      numDynamicSlots: 0,
      state: "Owner",
      activity: "Idle",
      toRetireS: secs(x.nowMs),
      toDieS: secs(x.untilMs),
      daemonStartTimeS: secs(x.nowMs),
      myCurrentTimeS: secs(x.nowMs),
      timeToLiveS: Math.max(0, secs(x.untilMs - x.nowMs)),
      start: "false",
      failure: {
        exitCode: x.exitCode,
        failureClass: x.failure.class,
        reason:
          `${x.failure.class}: ${x.failure.message}. Keeping the node busy until ` +
          `${new Date(x.untilMs).toISOString()}`,
      },
    },
    { ...x.published, ...x.nodeAttrs },
  );
}

export interface LingerOptions {
  ad: FailureAdInput;
  /** Undefined when there is no collector to tell, or it could not be reached. */
  advertiser?: SlotAdvertiser;
  clock: Clock;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** SIGTERM ends the linger at once. */
  terminate?: AbortSignal;
  log?: Logger;
}

/** Holds the slot until `untilMs` (or SIGTERM), advertising the failure ad meanwhile. */
export async function lingerAfterFailure(o: LingerOptions): Promise<void> {
  const { ad, clock } = o;
  o.log?.warn(
    { until: new Date(ad.untilMs).toISOString(), class: ad.failure.class },
    "validation failed: keeping the batch slot so that the site's queue does not drain here",
  );
  const name = slotName(ad.id);
  let advertised = false;
  while (!o.terminate?.aborted && clock.now() < ad.untilMs) {
    try {
      await o.advertiser?.advertise(buildFailureAd({ ...ad, nowMs: clock.now() }));
      advertised = o.advertiser !== undefined;
    } catch (err) {
      o.log?.warn({ err }, "cannot advertise the failure ad");
    }
    await o.sleep(Math.min(ADVERTISE_EVERY_MS, ad.untilMs - clock.now()), o.terminate);
  }
  if (!advertised) return;
  try {
    await o.advertiser!.invalidate(name);
  } catch (err) {
    o.log?.warn({ err }, "cannot invalidate the failure ad; it expires on its own");
  }
}

/** The failure ad is renewed this often, well within the collector's default ad lifetime. */
const ADVERTISE_EVERY_MS = 5 * 60_000;
