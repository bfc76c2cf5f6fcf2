import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * Per-tenant configuration documents (alert rules, notification targets,
 * experiments, scheduled jobs) in ClickHouse: one ReplacingMergeTree(updated_at) row per
 * change, so the latest row per (tenant, id) is the document and a delete is
 * a row with `deleted`. Every query names the tenant: one tenant's id is
 * another tenant's 404.
 */
export interface StoredDocument<T> {
  id: string;
  tenant: string;
  created_at: number;
  updated_at: number;
  definition: T;
  /** Only the experiments table has it. */
  status?: string;
  /** Only set by all({ deletedWithinMs }). */
  deleted?: boolean;
}

type Row = { id: string; tenant: string; definition: string; status?: string; deleted?: boolean; created_at: string; updated_at: string };

export class DocumentStore<T> {
  constructor(
    private readonly ch: ClickHouseClient,
    private readonly table: 'alert_rules' | 'notification_targets' | 'experiments' | 'jobs' | 'actions' | 'remediation_policies' | 'remediation_settings',
  ) {}

  async list(tenant: string): Promise<StoredDocument<T>[]> {
    return this.select('tenant = {tenant:String}', { tenant });
  }

  async get(tenant: string, id: string): Promise<StoredDocument<T> | undefined> {
    return (await this.select('tenant = {tenant:String} AND id = {id:String}', { tenant, id }))[0];
  }

  /**
   * Every tenant's documents, for processors that evaluate all tenants'
   * rules; with `deletedWithinMs`, also those deleted that recently (flagged
   * `deleted`), so a processor can wind down what they left behind.
   */
  async all(opts: { deletedWithinMs?: number } = {}): Promise<StoredDocument<T>[]> {
    if (opts.deletedWithinMs === undefined) return this.select('1', {});
    // Qualified: the SELECT aliases updated_at to epoch ms, and an alias wins over a column in WHERE.
    const recent = `${this.table}.updated_at >= now64(3) - toIntervalMillisecond({within:UInt64})`;
    return this.select(`(NOT deleted OR ${recent})`, { within: opts.deletedWithinMs }, true);
  }

  async create(tenant: string, definition: T, extra: { status?: string } = {}): Promise<StoredDocument<T>> {
    const now = Date.now();
    const doc: StoredDocument<T> = { id: randomUUID(), tenant, created_at: now, updated_at: now, definition, ...extra };
    await this.write(doc, false);
    return doc;
  }

  async replace(existing: StoredDocument<T>, definition: T, extra: { status?: string } = {}): Promise<StoredDocument<T>> {
    // updated_at must grow for the new row to win, even within one millisecond.
    const doc: StoredDocument<T> = { ...existing, ...extra, definition, updated_at: Math.max(Date.now(), existing.updated_at + 1) };
    await this.write(doc, false);
    return doc;
  }

  async delete(existing: StoredDocument<T>): Promise<void> {
    await this.write({ ...existing, updated_at: Math.max(Date.now(), existing.updated_at + 1) }, true);
  }

  private async write(doc: StoredDocument<T>, deleted: boolean): Promise<void> {
    const row: Record<string, unknown> = {
      tenant: doc.tenant,
      id: doc.id,
      definition: JSON.stringify(doc.definition),
      deleted,
      created_at: doc.created_at,
      updated_at: doc.updated_at,
    };
    if (this.table === 'experiments') row.status = doc.status ?? 'running';
    await this.ch.insert({ table: this.table, values: [row], format: 'JSONEachRow' });
  }

  private async select(where: string, params: Record<string, unknown>, withDeleted = false): Promise<StoredDocument<T>[]> {
    const status = this.table === 'experiments' ? ', status' : '';
    const deleted = withDeleted ? ', deleted' : '';
    const rows = await selectRows<Row>(
      this.ch,
      `SELECT tenant, id, definition${status}${deleted}, toUnixTimestamp64Milli(created_at) AS created_at, toUnixTimestamp64Milli(updated_at) AS updated_at
       FROM ${this.table} FINAL WHERE ${withDeleted ? where : `${where} AND NOT deleted`} ORDER BY created_at, id`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      tenant: r.tenant,
      created_at: Number(r.created_at),
      updated_at: Number(r.updated_at),
      definition: JSON.parse(r.definition) as T,
      ...(r.status === undefined ? {} : { status: r.status }),
      ...(r.deleted === undefined ? {} : { deleted: Boolean(r.deleted) }),
    }));
  }
}
