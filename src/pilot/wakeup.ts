/** A wait that ends at its timeout or as soon as something calls `now()`, whichever is first. */
export interface Wakeup {
  now(): void;
  wait(ms: number): Promise<void>;
}

/**
 * `sleep` gets a signal that is aborted when the wait ends early, so its timer can go: a timer
 * left behind would keep the pilot's process alive after its last word.
 */
export function createWakeup(sleep: (ms: number, signal?: AbortSignal) => Promise<void>): Wakeup {
  let pending = false;
  let resolveCurrent: (() => void) | undefined;
  return {
    now() {
      if (resolveCurrent) resolveCurrent();
      else pending = true;
    },
    wait(ms) {
      // A wake-up that arrived while we were busy must not be lost.
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        // Each wait has its own finisher, so a late timer cannot end a later wait.
        let done = false;
        const early = new AbortController();
        const finish = () => {
          if (done) return;
          done = true;
          if (resolveCurrent === finish) resolveCurrent = undefined;
          early.abort();
          resolve();
        };
        resolveCurrent = finish;
        sleep(ms, early.signal).then(finish, finish);
      });
    },
  };
}
