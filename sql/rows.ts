import type { ClickHouseClient } from '@clickhouse/client';

/**
 * A parameterised SELECT as rows. Parameters left undefined (unset filters)
 * are dropped: an undefined parameter upsets the binding of the ones after it.
 */
export async function selectRows<T>(ch: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  const result = await ch.query({ query, query_params: defined, format: 'JSONEachRow' });
  return result.json<T>();
}
