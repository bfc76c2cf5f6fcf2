/**
 * What a benchmark started, stopped again however the benchmark ends: after
 * its figures, on an error, or on Ctrl-C / SIGTERM. The signals need a
 * handler: Node's default is to exit at once, running no `finally`, and the
 * local stack's services (detached, each in a process group of its own) and
 * any child not in the terminal's process group would outlive the benchmark.
 *
 *   const teardown = new Teardown().stopOnSignals();
 *   try { …start things with teardown… } finally { await teardown.run(); }
 */
export interface TeardownOptions {
  /** A step that failed: the others still run. By default a line on stderr and exit code 1. */
  onError?: (what: string, err: unknown) => void;
}

interface Step {
  what: string;
  run: () => Promise<void>;
}

export class Teardown {
  readonly #steps: Step[] = [];
  readonly #onError: (what: string, err: unknown) => void;
  #running: Promise<void> | undefined;
  #finished = false;

  constructor(opts: TeardownOptions = {}) {
    this.#onError =
      opts.onError ??
      ((what, err) => {
        process.stderr.write(`bench: could not stop ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode ||= 1;
      });
  }

  /**
   * `run` happens at teardown, before every step deferred earlier: what was
   * started last stops first (the gateway before the Kafka it writes to).
   * Steps must be safe to run when their thing is stopped already. Deferred
   * after teardown has finished (the benchmark's flow still running after a
   * signal), it runs at once.
   */
  defer(what: string, run: () => Promise<void>): void {
    const step = { what, run };
    if (this.#finished) void this.#runStep(step);
    else this.#steps.push(step);
  }

  /** Runs every step, last deferred first, one at a time; once, however often it is called. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      // Popped one at a time, so a step deferred while teardown runs is run too.
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) await this.#runStep(step);
      this.#finished = true;
    })();
    return this.#running;
  }

  /**
   * On SIGINT or SIGTERM: tear down, then exit 130 or 143 (128 + the signal's
   * number, as a shell reports it). A second signal exits at once, leaving
   * whatever is not stopped yet.
   */
  stopOnSignals(): this {
    let signalled = false;
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.on(signal, () => {
        if (signalled) {
          process.stderr.write(`bench: ${signal} again: exiting now, whatever is not stopped yet stays up\n`);
          process.exit(code);
        }
        signalled = true;
        process.stderr.write(`bench: ${signal}: stopping what this benchmark started (${signal} again to exit at once)…\n`);
        void this.run().finally(() => process.exit(code));
      });
    }
    return this;
  }

  async #runStep(step: Step): Promise<void> {
    try {
      await step.run();
    } catch (err) {
      this.#onError(step.what, err);
    }
  }
}
