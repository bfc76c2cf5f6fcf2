import { Log, Logger, LogLevel } from '@crawlee/cheerio';
import type { Logger as AppLogger } from '../../../lib/log.ts';

/**
 * crawlee's log for one run, written to the job's logger at debug level
 * (crawlee's level kept as a field): what a page did is counted in the run's
 * details and logged by the runner; crawlee's own narration (statistics,
 * retries, "crawler reached maxRequestsPerCrawl") is for when someone asks.
 */
class ToJobLog extends Logger {
  private readonly out: AppLogger;
  constructor(out: AppLogger) {
    super({});
    this.out = out;
  }
  override _log(level: LogLevel, message: string, data?: unknown, exception?: unknown): void {
    this.out.debug(
      { crawlee: LogLevel[level], ...(data && typeof data === 'object' ? { data } : {}), ...(exception ? { err: String(exception) } : {}) },
      message,
    );
  }
}

export const crawleeLog = (out: AppLogger) => new Log({ level: LogLevel.DEBUG, logger: new ToJobLog(out) });
