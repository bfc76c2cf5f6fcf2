/**
 * Two small schedules the processors share: work that must not interleave
 * (a read-modify-write under Redis WATCH, a version number taken from the
 * latest one), and a periodic job that never overlaps itself.
 */

/** Runs each piece of work after the previous one finished, failed or not. */
export function serialQueue(): { run<T>(work: () => Promise<T>): Promise<T>; idle(): Promise<unknown> } {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(work) {
      const next = queue.then(work, work);
      queue = next.catch(() => undefined);
      return next;
    },
    idle: () => queue,
  };
}

/**
 * `work` every `ms`, skipping a tick while the previous run is still going;
 * a failure goes to `onError` and the next tick simply tries again. The timer
 * does not keep the process alive.
 */
export function everyInterval(ms: number, work: () => Promise<unknown>, onError: (err: unknown) => void = () => undefined): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch(onError)
      .finally(() => (running = false));
  }, ms);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
