import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { feedItems, parseFeed } from './feed.ts';
import { brief, statusJob } from './fixtures/jobs.ts';
import { fixture, type StatusSource, startStatusSource } from './fixtures/status-source.ts';
import { runStatusPage, type StatusPageState } from './run.ts';

/*
 * Before this folder there was no feed reader: every case failed on its
 * import. Fixtures: GitHub's history.atom and a Statuspage history.rss as
 * those pages write them, and a cloud provider's plain RSS.
 */

let source: StatusSource;
beforeAll(async () => {
  source = await startStatusSource();
});
afterAll(async () => source?.close());

describe('Atom (GitHub status history.atom)', () => {
  it('reads each entry: latest update word, message, link, time, affected components, maintenance by its words', () => {
    const items = feedItems(fixture('github-history-open.atom'));
    expect(items.map((i) => [i.kind, i.event.name, i.event.status])).toEqual([
      ['incident', 'Incident with Actions and Pull Requests', 'investigating'],
      ['incident', 'Disruption with some GitHub services', 'resolved'],
      ['maintenance', 'Scheduled maintenance for GitHub Packages', 'completed'],
    ]);
    expect(items[0]!.event).toEqual({
      id: 'tag:www.githubstatus.com,2005:Incident/26433107',
      name: 'Incident with Actions and Pull Requests',
      status: 'investigating',
      impact: 'minor',
      updated_at: '2026-12-02T10:04:37.000Z',
      url: 'https://www.githubstatus.com/incidents/q8vjz4t1n6sd',
      message: 'We are investigating reports of degraded performance for Actions and Pull Requests.',
      components: [],
    });
    expect(items[1]!.event.components).toEqual(['Git Operations', 'API Requests']);
    expect(items[1]!.event.message).toMatch(/^This incident has been resolved\./);
    expect(items[2]!.event).toMatchObject({ impact: 'maintenance', components: ['Packages'] });
  });

  it('a snapshot holds only what is open; the closed ones are kept aside for their words', () => {
    const s = parseFeed(fixture('github-history-open.atom'));
    expect(s.incidents.map((i) => i.name)).toEqual(['Incident with Actions and Pull Requests']);
    expect(s.maintenances).toEqual([]);
    expect(s.closed?.map((i) => i.status)).toEqual(['resolved', 'completed']);
  });
});

describe('RSS 2.0', () => {
  it('reads a Statuspage history.rss: an "Update"-free latest word, the affected list with its serial comma', () => {
    const items = feedItems(fixture('statuspage-history.rss'));
    expect(items.map((i) => i.event)).toEqual([
      {
        id: 'https://status.examplepay.com/incidents/p9zbm0xh3c4r',
        name: 'Elevated error rates for card payments',
        status: 'monitoring',
        impact: 'minor',
        updated_at: '2026-12-02T10:31:02.000Z',
        url: 'https://status.examplepay.com/incidents/p9zbm0xh3c4r',
        message: 'A fix has been implemented and we are monitoring the results.',
        components: ['Card Payments'],
      },
      expect.objectContaining({ name: 'Payout delays', status: 'resolved', components: ['Payouts', 'Webhooks', 'API'] }),
    ]);
  });

  it('reads a plain provider RSS: CDATA, RFC 822 dates with a zone, [RESOLVED] in the title, impact from its words', () => {
    const items = feedItems(fixture('cloud-status.rss'));
    expect(items.map((i) => [i.event.status, i.event.updated_at, i.event.impact])).toEqual([
      ['open', '2026-12-02T17:58:31.000Z', 'minor'],
      ['resolved', '2026-11-20T11:12:09.000Z', 'critical'],
    ]);
    expect(items[0]!.event).toMatchObject({
      id: 'https://status.nimbus.example/#objectstorage-eu-west-2_1796320711',
      name: 'Informational message: Increased error rates',
      message: 'We are investigating increased error rates for PUT requests in the eu-west-2 region. GET requests are not affected.',
    });
  });

  it('refuses what is not a feed, saying what it is', () => {
    expect(() => feedItems('<rss><channel><item><title>x</item></channel></rss>')).toThrow(/not readable as feed: not well-formed XML/);
    expect(() => feedItems('<?xml version="1.0"?><html><body>hi</body></html>')).toThrow(/<html>, neither an RSS channel nor an Atom feed/);
  });
});

describe('status_page job on a feed that changes', () => {
  it('opens an incident from an Atom entry, resolves it with the feed’s own words; If-Modified-Since gives 304', async () => {
    const ctx = testJobContext({ jobId: 'job-feed' });
    const job = statusJob({
      provider: 'GitHub',
      url: source.url('/history.atom'),
      dependents: [
        { service: 'ci', components: ['Actions'] },
        { service: 'deploys', components: ['Packages'] },
      ],
    });
    const atom = 'application/atom+xml; charset=utf-8';
    source.serve('/history.atom', fixture('github-history-open.atom'), atom, { validators: 'last-modified' });
    const first = await runStatusPage(job, ctx);
    // The open entry names no component yet: it may concern any dependent.
    expect(ctx.publisher.records('externalStatus').map(brief).sort()).toEqual([
      'incident:Incident with Actions and Pull Requests null→investigating @ci',
      'incident:Incident with Actions and Pull Requests null→investigating @deploys',
    ]);
    expect(first.details).toMatchObject({ format: 'feed', incidents: 1, changes: 1 });

    source.serve('/history.atom', fixture('github-history-resolved.atom'), atom, { validators: 'last-modified' });
    await runStatusPage(job, ctx);
    expect(source.requests.at(-1)!.headers['if-modified-since']).toBeDefined();
    const resolved = ctx.publisher.records('externalStatus').slice(2);
    expect(resolved.map(brief).sort()).toEqual([
      'incident:Incident with Actions and Pull Requests investigating→resolved @ci',
      'incident:Incident with Actions and Pull Requests investigating→resolved @deploys',
    ]);
    expect(resolved[0]).toMatchObject({
      degraded: false,
      message: 'This incident has been resolved.',
      url: 'https://www.githubstatus.com/incidents/q8vjz4t1n6sd',
    });

    const state = structuredClone(ctx.saved()) as StatusPageState;
    const third = await runStatusPage(job, ctx);
    expect(source.requests.at(-1)!.status).toBe(304);
    expect(third).toMatchObject({ items: 0, details: { status: 304, not_modified: true } });
    expect(ctx.saved()).toEqual(state);
  });

  it('reads an RSS feed picked by format auto', async () => {
    const ctx = testJobContext();
    source.serve('/history.rss', fixture('statuspage-history.rss'), 'application/rss+xml');
    const result = await runStatusPage(
      statusJob({ url: source.url('/history.rss'), dependents: [{ service: 'checkout', components: ['Card Payments'] }] }),
      ctx,
    );
    expect(result.details).toMatchObject({ format: 'feed', incidents: 1 });
    expect(ctx.publisher.records('externalStatus').map(brief)).toEqual(['incident:Elevated error rates for card payments null→monitoring @checkout']);
  });
});
