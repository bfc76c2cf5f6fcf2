import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { DeploymentEvent } from '../../schemas/topics.ts';
import { selectRows } from '../../sql/rows.ts';

/**
 * The deployment facts a rollback needs: the version deployed before the
 * suspect one (what to roll back to), and, for an analysis, its incident's
 * suspect.
 *
 * The processor reads autopilot.deployments itself and keeps each service's
 * recent versions in Redis (`DeploymentHistory`), so the previous version is
 * known the moment the incident opens, whether or not the sink has written
 * the deployment rows yet (found by the full suite: under load the proposal
 * was made before the row was in ClickHouse). ClickHouse answers for what is
 * older than the history.
 */
export class DeploymentHistory {
  constructor(
    private readonly redis: Redis,
    private readonly keep = 50,
  ) {}

  private key = (tenant: string, service: string) => `remediation:deployments:${tenant}:${service}`;

  async record(e: DeploymentEvent): Promise<void> {
    const key = this.key(e.tenant, e.service);
    // A version deployed again counts from its latest deployment.
    await this.redis
      .multi()
      .zadd(key, e.timestamp, e.version)
      .zremrangebyrank(key, 0, -this.keep - 1)
      .pexpire(key, 90 * 86_400_000)
      .exec();
  }

  /** The version deployed last before `suspect` was, or null when the history does not say. */
  async previous(tenant: string, service: string, suspect: string): Promise<string | null> {
    const key = this.key(tenant, service);
    const at = await this.redis.zscore(key, suspect);
    if (at === null) return null;
    const before = await this.redis.zrevrangebyscore(key, `(${at}`, '-inf', 'LIMIT', 0, 1);
    return before[0] ?? null;
  }
}

export async function previousVersion(
  ch: ClickHouseClient,
  tenant: string,
  service: string,
  suspect: string | null,
  history?: DeploymentHistory,
): Promise<string | null> {
  if (suspect === null) return null;
  const remembered = await history?.previous(tenant, service, suspect);
  if (remembered) return remembered;
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
