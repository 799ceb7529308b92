/**
 * Breaking epoch seconds down for the time built-ins: in local time (the context's zone, see
 * `FnContext.utcOffset`) or at an abstime's own offset, as HTCondor does with `localtime` and
 * with `gmtime(secs + offset)`.
 */
import { calendarOf, makeAbsTime } from "../time-text.js";
import type { AbsTime } from "../value.js";
import { type FnContext, localOffset } from "./builtin.js";
import type { ZonedTime } from "./strftime.js";

/** `+hhmm`-style name for a zone known only by its offset. */
function offsetName(offset: number): string {
  if (offset === 0) return "UTC";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = String(Math.floor(abs / 60) % 60).padStart(2, "0");
  return `${offset < 0 ? "-" : "+"}${hh}${mm}`;
}

/** The process zone's abbreviation at an instant (used only when no zone was injected). */
function systemZoneName(epochSeconds: number): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(new Date(epochSeconds * 1000))
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

function zoned(epoch: number, offset: number, zone: string): ZonedTime | undefined {
  const c = calendarOf(epoch, offset);
  return c === undefined ? undefined : { ...c, epoch, offset, zone };
}

/** `epoch` in the local zone of the context. */
export function localTime(ctx: FnContext, epoch: number): ZonedTime | undefined {
  const offset = localOffset(ctx, epoch);
  const zone = ctx.utcOffset === undefined ? systemZoneName(epoch) : offsetName(offset);
  return zoned(epoch, offset, zone);
}

/** An abstime at its own offset; `gmtime` names that zone GMT. */
export function absTimeFields(t: AbsTime): ZonedTime | undefined {
  return zoned(t.secs, t.offset, "GMT");
}

/**
 * An abstime at `secs` in the local zone of the context (what `absTime(secs)` makes), or
 * undefined beyond the calendar's range.
 */
export function localAbsTime(ctx: FnContext, secs: number): AbsTime | undefined {
  return makeAbsTime(secs, localOffset(ctx, secs));
}
