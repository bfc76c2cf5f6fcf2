import type { ClickHouseClient } from '@clickhouse/client';
import { serialQueue } from '../../lib/serial.ts';
import { selectRows } from '../rows.ts';

/**
 * Prompt versions and the tags that point at them, per tenant. Versions are
 * immutable and numbered from 1 per prompt name; tags move.
 */
export interface PromptVersion {
  tenant: string;
  name: string;
  version: number;
  template: string;
  variables: string[];
  changelog: string;
  parent_version: number | null;
  created_at: number;
}

export interface NewPromptVersion {
  template: string;
  variables: string[];
  changelog: string;
  parent_version: number | null;
}

const VERSION_COLUMNS = `tenant, name, version, template, variables, changelog, parent_version, toUnixTimestamp64Milli(created_at) AS created_at`;

export class PromptStore {
  /** Creations run one at a time in this process, so two requests cannot take the same version number. */
  private readonly creations = serialQueue();

  constructor(private readonly ch: ClickHouseClient) {}

  create(tenant: string, name: string, input: NewPromptVersion): Promise<PromptVersion> {
    return this.creations.run(async () => {
      const latest = await this.latestVersion(tenant, name);
      const version: PromptVersion = { tenant, name, version: latest + 1, ...input, created_at: Date.now() };
      await this.ch.insert({ table: 'prompt_versions', values: [version], format: 'JSONEachRow' });
      return version;
    });
  }

  async latestVersion(tenant: string, name: string): Promise<number> {
    const rows = await this.rows<{ v: string }>('SELECT max(version) AS v FROM prompt_versions WHERE tenant = {tenant:String} AND name = {name:String}', {
      tenant,
      name,
    });
    return Number(rows[0]?.v ?? 0);
  }

  async version(tenant: string, name: string, version: number): Promise<PromptVersion | undefined> {
    const rows = await this.rows<PromptVersion>(
      `SELECT ${VERSION_COLUMNS} FROM prompt_versions FINAL WHERE tenant = {tenant:String} AND name = {name:String} AND version = {version:UInt32}`,
      { tenant, name, version },
    );
    return rows.map(toVersion)[0];
  }

  async versions(tenant: string, name: string): Promise<PromptVersion[]> {
    const rows = await this.rows<PromptVersion>(
      `SELECT ${VERSION_COLUMNS} FROM prompt_versions FINAL WHERE tenant = {tenant:String} AND name = {name:String} ORDER BY version`,
      { tenant, name },
    );
    return rows.map(toVersion);
  }

  /** Every prompt of the tenant: name, latest version, tags. */
  async list(tenant: string): Promise<{ name: string; latest_version: number; tags: Record<string, number> }[]> {
    const rows = await this.rows<{ name: string; latest: string }>(
      'SELECT name, max(version) AS latest FROM prompt_versions WHERE tenant = {tenant:String} GROUP BY name ORDER BY name',
      { tenant },
    );
    const tags = await this.rows<{ name: string; tag: string; version: string }>(
      'SELECT name, tag, version FROM prompt_tags FINAL WHERE tenant = {tenant:String} AND NOT deleted',
      { tenant },
    );
    return rows.map((r) => ({
      name: r.name,
      latest_version: Number(r.latest),
      tags: Object.fromEntries(tags.filter((t) => t.name === r.name).map((t) => [t.tag, Number(t.version)])),
    }));
  }

  async tags(tenant: string, name: string): Promise<Record<string, number>> {
    const rows = await this.rows<{ tag: string; version: string }>(
      'SELECT tag, version FROM prompt_tags FINAL WHERE tenant = {tenant:String} AND name = {name:String} AND NOT deleted ORDER BY tag',
      { tenant, name },
    );
    return Object.fromEntries(rows.map((r) => [r.tag, Number(r.version)]));
  }

  async setTag(tenant: string, name: string, tag: string, version: number, deleted = false): Promise<void> {
    // The newest row per tag wins; a tag moved twice in one millisecond must still order, hence the read.
    const rows = await this.rows<{ at: string }>(
      'SELECT toUnixTimestamp64Milli(max(updated_at)) AS at FROM prompt_tags WHERE tenant = {tenant:String} AND name = {name:String} AND tag = {tag:String}',
      { tenant, name, tag },
    );
    const updated_at = Math.max(Date.now(), Number(rows[0]?.at ?? 0) + 1);
    await this.ch.insert({ table: 'prompt_tags', values: [{ tenant, name, tag, version, deleted, updated_at }], format: 'JSONEachRow' });
  }

  /** The version a tag points at, if the tag exists. */
  async tagged(tenant: string, name: string, tag: string): Promise<PromptVersion | undefined> {
    const version = (await this.tags(tenant, name))[tag];
    return version === undefined ? undefined : this.version(tenant, name, version);
  }

  private rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    return selectRows<T>(this.ch, query, params);
  }
}

function toVersion(r: PromptVersion): PromptVersion {
  return { ...r, version: Number(r.version), parent_version: r.parent_version === null ? null : Number(r.parent_version), created_at: Number(r.created_at) };
}
