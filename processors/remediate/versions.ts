import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../../sql/rows.ts';

/**
 * The deployment facts a rollback needs: the version deployed before the
 * suspect one (what to roll back to), and, for an analysis, its incident's
 * suspect. From ClickHouse, by the tenant.
 */
export async function previousVersion(ch: ClickHouseClient, tenant: string, service: string, suspect: string | null): Promise<string | null> {
  if (suspect === null) return null;
  const [row] = await selectRows<{ version: string }>(
    ch,
    `SELECT version FROM deployments FINAL
      WHERE tenant = {tenant:String} AND service = {service:String} AND version != {suspect:String}
        AND timestamp < (SELECT ifNull(max(timestamp), now64(3)) FROM deployments FINAL
                          WHERE tenant = {tenant:String} AND service = {service:String} AND version = {suspect:String})
      ORDER BY deployments.timestamp DESC LIMIT 1`,
    { tenant, service, suspect },
  );
  return row?.version ?? null;
}

export async function incidentSuspect(ch: ClickHouseClient, tenant: string, incidentId: string): Promise<string | null> {
  const [row] = await selectRows<{ v: string | null }>(
    ch,
    'SELECT suspect_version AS v FROM incidents FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String} LIMIT 1',
    { tenant, id: incidentId },
  );
  return row?.v ?? null;
}
