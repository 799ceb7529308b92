/** A wait that ends at its timeout or as soon as something calls `now()`, whichever is first. */
export interface Wakeup {
  now(): void;
  wait(ms: number): Promise<void>;
}

export function createWakeup(sleep: (ms: number) => Promise<void>): Wakeup {
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
        const finish = () => {
          if (done) return;
          done = true;
          if (resolveCurrent === finish) resolveCurrent = undefined;
          resolve();
        };
        resolveCurrent = finish;
        void sleep(ms).then(finish);
      });
    },
  };
}
