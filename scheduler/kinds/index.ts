import type { JobKind } from '../../tenant-config/jobs.ts';
import type { JobRunner } from '../context.ts';
import { runExtract } from './extract/run.ts';
import { runHttpProbe } from './http-probe.ts';
import { runScrape } from './scrape/run.ts';
import { runStatusPage } from './status-page/run.ts';

/** Every job kind's runner, by kind. */
export const RUNNERS: { [K in JobKind]: JobRunner<K> } = {
  http_probe: runHttpProbe,
  status_page: runStatusPage,
  scrape: runScrape,
  extract: runExtract,
};
