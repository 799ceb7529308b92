/**
 * Completions that travel with the next claim to the same schedd: one round trip instead of
 * two for a slot whose job ended and that claims again at once. A completion no claim takes
 * before the event loop's next turn goes alone (CompleteJob), and so does every completion
 * once the schedd has shown it predates carrying them (it answered a claim that carried some
 * with no answers). Each completion's promise settles as CompleteJob's own call would.
 */
import type { ScheddClient } from "../schedd/client.js";
import type { CompletionAnswer, JobCompletion } from "../schedd/messages.js";
import { errorFromWire } from "../wire/errors.js";

export interface Carried {
  completion: JobCompletion;
  settle: (err?: unknown) => void;
}

export interface CompletionCarrier {
  /** Resolves once the schedd took the completion; rejects as CompleteJob would. */
  send(completion: JobCompletion): Promise<void>;
  /** The completions waiting, for a claim about to go; the claim must call `answered`. */
  take(): Carried[];
  /**
   * The claim's answers (undefined when the claim failed): each answered completion settles,
   * the others go alone; a schedd that took the claim and answered none predates carrying.
   */
  answered(carried: readonly Carried[], answers: readonly CompletionAnswer[] | undefined): void;
}

export function createCompletionCarrier(c: ScheddClient): CompletionCarrier {
  let waiting: Carried[] = [];
  let carries = true;
  const alone = (p: Carried): void => {
    c.completeJob(p.completion).then(
      () => p.settle(),
      (err: unknown) => p.settle(err),
    );
  };
  const sendWaitingAlone = (): void => {
    for (const p of waiting.splice(0)) alone(p);
  };
  return {
    send(completion) {
      return new Promise<void>((resolve, reject) => {
        const p: Carried = {
          completion,
          settle: (err) => (err === undefined ? resolve() : reject(err)),
        };
        if (!carries) return alone(p);
        waiting.push(p);
        if (waiting.length === 1) setImmediate(sendWaitingAlone);
      });
    },
    take() {
      const taken = waiting;
      waiting = [];
      return taken;
    },
    answered(carried, answers) {
      if (carried.length === 0) return;
      // A claim that failed may or may not have delivered them: sent again, a completion the
      // schedd took is refused with already-exists, which the caller counts as taken.
      if (answers !== undefined && answers.length === 0) carries = false;
      carried.forEach((p, i) => {
        const a = answers?.[i];
        if (a === undefined) alone(p);
        else if (a.error) p.settle(errorFromWire(a.error.code, a.error.message, a.error.details));
        else p.settle();
      });
    },
  };
}
