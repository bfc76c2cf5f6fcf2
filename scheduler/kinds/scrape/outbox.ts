import { describeError } from '../../../lib/errors.ts';
import type { ExtractionRecord, ScrapedPage } from '../../../schemas/topics.ts';
import type { JobContext } from '../../context.ts';

/** Pages per publish: bounded by count as each page is bounded in size (text and links capped). */
const PAGES_PER_PUBLISH = 20;
/** Extractions carry up to max_chars (200k) of source text each. */
const EXTRACTIONS_PER_PUBLISH = 5;

/**
 * Pages and extractions on their way to Kafka, published a chunk at a time.
 * A failed publish is kept (and stops the crawl through onFailure) rather
 * than thrown into crawlee, which would take it for the page's failure and
 * fetch the page again.
 */
export class Outbox {
  private pages: ScrapedPage[] = [];
  private extractions: ExtractionRecord[] = [];
  failure: Error | undefined;
  onFailure: () => void = () => {};

  constructor(private readonly ctx: JobContext) {}

  async page(p: ScrapedPage): Promise<void> {
    this.pages.push(p);
    if (this.pages.length >= PAGES_PER_PUBLISH) await this.send('scrapedPages');
  }

  async extraction(e: ExtractionRecord): Promise<void> {
    this.extractions.push(e);
    if (this.extractions.length >= EXTRACTIONS_PER_PUBLISH) await this.send('extractions');
  }

  async flush(): Promise<void> {
    await this.send('scrapedPages');
    await this.send('extractions');
  }

  /** Sends what is waiting of one kind; two handlers filling the outbox at once each send what they took. */
  private async send(kind: 'scrapedPages' | 'extractions'): Promise<void> {
    if (this.failure) return;
    try {
      if (kind === 'scrapedPages') {
        const batch = this.pages.splice(0);
        if (batch.length > 0) await this.ctx.publisher.publish(kind, batch);
      } else {
        const batch = this.extractions.splice(0);
        if (batch.length > 0) await this.ctx.publisher.publish(kind, batch);
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(describeError(err));
      this.onFailure();
    }
  }
}
