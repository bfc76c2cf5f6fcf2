import type { ClickHouseClient } from '@clickhouse/client';
import { serialQueue } from '../../lib/serial.ts';
import { selectRows } from '../rows.ts';

/**
 * Tenants' LLM price tables (migration 0033): one row per change, holding the
 * tenant's whole set of overrides after it, so each row is a version of the
 * table. Like the other configuration stores, every query names the tenant.
 */
/** USD per million tokens (tenant-config/agent-prices.ts validates and applies them). */
export interface ModelPrice {
  input_per_mtok: number;
  output_per_mtok: number;
  /** Input tokens read from the provider's cache; providers charge a fraction of the input rate. */
  cached_input_per_mtok: number;
}

export interface PriceVersion {
  version: number;
  /** The tenant's own prices at this version (the defaults not included). */
  overrides: Record<string, ModelPrice>;
  change: PriceChange | null;
  created_at: number;
}

export interface PriceChange {
  action: 'put' | 'delete';
  model: string;
}

type Row = { version: string | number; prices: string; change: string; created_at: string | number };

export class AgentPriceStore {
  /** Changes run one at a time in this process, so two requests cannot take the same version number. */
  private readonly changes = serialQueue();

  constructor(private readonly ch: ClickHouseClient) {}

  /** The latest version of the tenant's overrides; version 0 with none when it never changed anything. */
  async latest(tenant: string): Promise<PriceVersion> {
    const rows = await this.select('tenant = {tenant:String} ORDER BY version DESC LIMIT 1', { tenant });
    return rows[0] ?? { version: 0, overrides: {}, change: null, created_at: 0 };
  }

  /** One version, or undefined; version 0 is the built-in table alone. */
  async version(tenant: string, version: number): Promise<PriceVersion | undefined> {
    if (version === 0) return { version: 0, overrides: {}, change: null, created_at: 0 };
    return (await this.select('tenant = {tenant:String} AND version = {version:UInt32}', { tenant, version }))[0];
  }

  /** Every version of the tenant, oldest first. */
  versions(tenant: string): Promise<PriceVersion[]> {
    return this.select('tenant = {tenant:String} ORDER BY version', { tenant });
  }

  /** Every tenant's versions, for the agents processor (tables are small: a row per change). */
  async all(): Promise<Map<string, PriceVersion[]>> {
    const rows = await selectRows<Row & { tenant: string }>(
      this.ch,
      `SELECT tenant, version, prices, change, toUnixTimestamp64Milli(created_at) AS created_at FROM agent_price_versions FINAL ORDER BY tenant, version`,
    );
    const out = new Map<string, PriceVersion[]>();
    for (const r of rows) {
      const list = out.get(r.tenant) ?? out.set(r.tenant, []).get(r.tenant)!;
      list.push(toVersion(r));
    }
    return out;
  }

  /** Sets (`price`) or removes (undefined) the tenant's own price of `model` as a new version; undefined when there was nothing to remove. */
  change(tenant: string, model: string, price: ModelPrice | undefined): Promise<PriceVersion | undefined> {
    return this.changes.run(async () => {
      const next = nextVersion(await this.latest(tenant), model, price);
      if (!next) return undefined;
      await this.ch.insert({
        table: 'agent_price_versions',
        values: [{ tenant, version: next.version, prices: JSON.stringify(next.overrides), change: JSON.stringify(next.change), created_at: next.created_at }],
        format: 'JSONEachRow',
      });
      return next;
    });
  }

  private async select(where: string, params: Record<string, unknown>): Promise<PriceVersion[]> {
    const rows = await selectRows<Row>(
      this.ch,
      `SELECT version, prices, change, toUnixTimestamp64Milli(created_at) AS created_at FROM agent_price_versions FINAL WHERE ${where}`,
      params,
    );
    return rows.map(toVersion);
  }
}

function toVersion(r: Row): PriceVersion {
  return {
    version: Number(r.version),
    overrides: JSON.parse(r.prices) as Record<string, ModelPrice>,
    change: r.change ? (JSON.parse(r.change) as PriceChange) : null,
    created_at: Number(r.created_at),
  };
}

/**
 * The version after `latest` that sets (`price`) or removes (undefined) the
 * price of `model`; undefined when there is nothing to remove. created_at
 * grows with the version, even within one millisecond: "the version in force
 * at t" is then one answer.
 */
export function nextVersion(latest: PriceVersion, model: string, price: ModelPrice | undefined): PriceVersion | undefined {
  if (price === undefined && !Object.hasOwn(latest.overrides, model)) return undefined;
  const overrides = { ...latest.overrides };
  if (price === undefined) delete overrides[model];
  else overrides[model] = price;
  return {
    version: latest.version + 1,
    overrides: Object.fromEntries(Object.entries(overrides).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    change: { action: price === undefined ? 'delete' : 'put', model },
    created_at: Math.max(Date.now(), latest.created_at + 1),
  };
}
