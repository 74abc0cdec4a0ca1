/**
 * Cancelling a command in flight (`IncomingCommand.signal`, the console's Ctrl-C). A cancelled
 * synchronous Invoke-Command stops its job as Stop-Job does: the agents kill the process trees
 * and confirm, and the call returns once they have (or after CANCEL_CONFIRM_MS, as Stop-Job).
 */

/** How long a cancelled call waits for the agents to confirm the stop (Stop-Job's bound). */
export const CANCEL_CONFIRM_MS = 10_000;

/** Resolves when `signal` aborts (at once if it has); never without one. `dispose` drops the listener. */
export function whenAborted(signal: AbortSignal | undefined): { aborted: Promise<void>; dispose: () => void } {
  if (signal === undefined) return { aborted: new Promise<void>(() => undefined), dispose: () => undefined };
  let listener: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    listener = () => resolve();
    signal.addEventListener('abort', listener, { once: true });
  });
  return {
    aborted,
    dispose: () => {
      if (listener) signal.removeEventListener('abort', listener);
    },
  };
}

/**
 * Waits for `finished`. When `signal` aborts first, calls `stop` and waits for `finished` again,
 * at most `confirmMs`. Resolves false only when a stop was asked and not confirmed in time.
 */
export async function finishedOrStopped(
  signal: AbortSignal | undefined,
  finished: Promise<void>,
  stop: () => void,
  confirmMs: number = CANCEL_CONFIRM_MS,
): Promise<boolean> {
  const abort = whenAborted(signal);
  try {
    const cancelled = await Promise.race([finished.then(() => false), abort.aborted.then(() => true)]);
    if (!cancelled) return true;
  } finally {
    abort.dispose();
  }
  stop();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), confirmMs);
  });
  try {
    return await Promise.race([finished.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
