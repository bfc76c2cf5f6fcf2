import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { brief, statusJob } from './fixtures/jobs.ts';
import { fixture, type StatusSource, startStatusSource } from './fixtures/status-source.ts';
import { incidentIoUrl, parseIncidentIo } from './incident-io.ts';
import { runStatusPage } from './run.ts';

/*
 * Before this folder there was no incident.io reader: every case failed on
 * its import. The widget names only affected components, so what is pinned
 * here is that a component's return to normal is still seen.
 */

let source: StatusSource;
beforeAll(async () => {
  source = await startStatusSource();
});
afterAll(async () => source?.close());

const JSON_TYPE = 'application/json';

describe('incident.io widget API', () => {
  it('reads ongoing incidents with their affected components, and maintenances', () => {
    const s = parseIncidentIo(fixture('incident-io-incident.json'));
    expect(s.page).toBeNull();
    expect(s.componentsListed).toBe('affected');
    expect(s.components).toEqual([
      { id: '01H8ZK4A1B2C3D4E5F6G7H8J9K', name: 'Alert notifications', status: 'partial_outage', group: 'Alerting' },
      { id: '01H8ZK4B2C3D4E5F6G7H8J9K0L', name: 'Alert ingestion', status: 'degraded_performance', group: 'Alerting' },
    ]);
    expect(s.incidents).toEqual([
      expect.objectContaining({
        id: '01JE2F6Q9W8V7U6T5S4R3Q2P1N',
        status: 'identified',
        impact: 'major',
        updated_at: '2026-12-02T11:42:07.913Z',
        url: 'https://status.pagerline.io/incidents/01JE2F6Q9W8V7U6T5S4R3Q2P1N',
        components: ['Alert notifications', 'Alerting', 'Alert ingestion'],
      }),
    ]);
    expect(s.maintenances.map((m) => [m.name, m.status, m.impact])).toEqual([['Routine database failover test', 'maintenance_scheduled', 'maintenance']]);
  });

  it('finds the widget URL from the page URL', () => {
    expect(incidentIoUrl('https://status.pagerline.io')).toBe('https://status.pagerline.io/proxy/status.pagerline.io');
    expect(incidentIoUrl('https://status.pagerline.io/proxy/status.pagerline.io')).toBe('https://status.pagerline.io/proxy/status.pagerline.io');
  });

  it('refuses an answer without ongoing_incidents, saying so', () => {
    expect(() => parseIncidentIo('{"page_title": "x"}')).toThrow(/not readable as incident_io: ongoing_incidents/);
  });
});

describe('status_page job on an incident.io page that changes', () => {
  const ctx = testJobContext({ jobId: 'job-iio' });
  const dependents = [{ service: 'paging', components: ['Alerting'] }, { service: 'web', components: ['Web app'] }, { service: 'ops' }];
  let widgetPath = '';
  const run = async () => {
    const before = ctx.publisher.records('externalStatus').length;
    // The page's own URL: the runner asks the widget at /proxy/<host>.
    const result = await runStatusPage(statusJob({ provider: 'Pagerline', url: source.url('/'), format: 'incident_io', dependents }), ctx);
    return { result, records: ctx.publisher.records('externalStatus').slice(before) };
  };
  beforeAll(() => {
    widgetPath = new URL(incidentIoUrl(source.url('/'))).pathname;
  });

  it('first run: the scheduled maintenance, not degraded', async () => {
    source.serve(widgetPath, fixture('incident-io-quiet.json'), JSON_TYPE);
    const { result, records } = await run();
    expect(source.requests.at(-1)!.path).toMatch(/^\/proxy\/127\.0\.0\.1:\d+$/);
    expect(records.map(brief).sort()).toEqual([
      'maintenance:Routine database failover test null→maintenance_scheduled @ops',
      'maintenance:Routine database failover test null→maintenance_scheduled @web',
    ]);
    expect(records.every((r) => !r.degraded && r.impact === 'maintenance')).toBe(true);
    expect(result.details).toMatchObject({ format: 'incident_io', components: 0, incidents: 0, maintenances: 1 });
  });

  it('incident opened: its components degrade from operational, for the services on their group', async () => {
    source.serve(widgetPath, fixture('incident-io-incident.json'), JSON_TYPE);
    const { records } = await run();
    expect(records.map(brief).sort()).toEqual(
      [
        'component:Alert notifications operational→partial_outage @paging',
        'component:Alert notifications operational→partial_outage @ops',
        'component:Alert ingestion operational→degraded_performance @paging',
        'component:Alert ingestion operational→degraded_performance @ops',
        'incident:Delayed alert notifications null→identified @paging',
        'incident:Delayed alert notifications null→identified @ops',
      ].sort(),
    );
    expect(records.every((r) => r.degraded)).toBe(true);
    expect(records.find((r) => r.subject_name === 'Alert notifications')!.impact).toBe('major');
    expect(records.find((r) => r.subject_name === 'Alert ingestion')!.impact).toBe('minor');
    expect(records.find((r) => r.subject_kind === 'incident')).toMatchObject({
      impact: 'major',
      message: expect.stringMatching(/backlog in our notification queue/),
    });
  });

  it('incident resolved: gone from ongoing_incidents, its components operational again; the maintenance starts', async () => {
    source.serve(widgetPath, fixture('incident-io-resolved.json'), JSON_TYPE);
    const { records } = await run();
    expect(records.map(brief).sort()).toEqual(
      [
        'component:Alert notifications partial_outage→operational @paging',
        'component:Alert notifications partial_outage→operational @ops',
        'component:Alert ingestion degraded_performance→operational @paging',
        'component:Alert ingestion degraded_performance→operational @ops',
        'incident:Delayed alert notifications identified→resolved @paging',
        'incident:Delayed alert notifications identified→resolved @ops',
        'component:Web app operational→under_maintenance @web',
        'component:Web app operational→under_maintenance @ops',
        'maintenance:Routine database failover test maintenance_scheduled→maintenance_in_progress @web',
        'maintenance:Routine database failover test maintenance_scheduled→maintenance_in_progress @ops',
      ].sort(),
    );
    const of = (name: string) => records.filter((r) => r.subject_name === name);
    expect(of('Alert notifications').every((r) => !r.degraded && r.impact === 'none')).toBe(true);
    expect(of('Delayed alert notifications').every((r) => !r.degraded)).toBe(true);
    expect(of('Routine database failover test').every((r) => r.degraded && r.impact === 'maintenance')).toBe(true);

    // Seen once: the same answer again (no validators this time) changes nothing.
    source.serve(widgetPath, fixture('incident-io-resolved.json'), JSON_TYPE, { validators: 'none' });
    const again = await run();
    expect(again.records).toEqual([]);
    expect(again.result.details).toMatchObject({ status: 200, not_modified: false, changes: 0 });
  });

  it('format auto tells the widget from a Statuspage summary by its body', async () => {
    source.serve('/auto-widget', fixture('incident-io-incident.json'), JSON_TYPE);
    const result = await runStatusPage(statusJob({ url: source.url('/auto-widget') }), testJobContext());
    expect(result.details).toMatchObject({ format: 'incident_io', incidents: 1, components: 2 });
  });
});
