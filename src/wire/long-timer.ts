/**
 * setTimeout for any delay: Node fires a timer of more than 2^31-1 ms (24.8 days) at once, so a
 * longer wait is taken in steps. A credential valid for a year still closes its connection on
 * the day it expires.
 */
const MAX_STEP_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

export function setLongTimeout(fn: () => void, delayMs: number, now = Date.now): LongTimer {
  const due = now() + Math.max(0, delayMs);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = due - now();
    if (left <= 0) return fn();
    timer = setTimeout(arm, Math.min(left, MAX_STEP_MS));
    timer.unref?.();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
