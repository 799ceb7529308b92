import type { Downtime } from "./decide-types.js";

/** Whether `entry` is in downtime at `now`, for everyone or (when given) for `frontend`. */
export function inDowntime(
  downtimes: readonly Downtime[],
  entry: string,
  now: number,
  frontend?: string,
): boolean {
  return downtimes.some(
    (d) =>
      (d.entry === "all" || d.entry === entry) &&
      (d.frontend === undefined || d.frontend === frontend) &&
      d.start <= now &&
      (d.end === undefined || now < d.end),
  );
}
