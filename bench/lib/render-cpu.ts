/**
 * CPU per call of something a daemon does in its own process (rendering its /metrics page, say),
 * from process.cpuUsage(): user + system time, so the figure holds on a loaded machine where
 * wall time does not. The median of `runs` calls, after one warm-up call.
 */
import { loadavg } from "node:os";

export async function medianCpuMs(runs: number, call: () => Promise<unknown>): Promise<number> {
  await call();
  const per: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    await call();
    const used = process.cpuUsage(before);
    per.push((used.user + used.system) / 1000);
  }
  per.sort((a, b) => a - b);
  return Math.round(per[Math.floor(per.length / 2)]! * 10) / 10;
}

/** The one-minute load average, reported beside each figure: the machine is shared. */
export const load1 = (): number => Math.round(loadavg()[0]! * 10) / 10;
