import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { DecodeError, SchemaCatalog } from './catalog.ts';
import { TOPICS } from './topics.ts';

/** Against the real Apicurio registry (ccompat API) the test stack runs. */
const catalog = () => SchemaCatalog.connect(process.env.SCHEMA_REGISTRY_URL!);

const v1 = {
  type: 'record',
  name: 'Evolving',
  namespace: 'autopilot.test',
  fields: [
    { name: 'tenant', type: 'string' },
    { name: 'value', type: 'double' },
  ],
};

describe('schema evolution under BACKWARD compatibility', () => {
  it('accepts an added optional field with a default, refuses an incompatible change with a clear error', async () => {
    const c = catalog();
    const subject = `evolution-${randomUUID()}-value`;
    const id1 = await c.registerSubject(subject, JSON.stringify(v1));

    const v2 = { ...v1, fields: [...v1.fields, { name: 'unit', type: ['null', 'string'], default: null }] };
    const id2 = await c.registerSubject(subject, JSON.stringify(v2));
    expect(id2).not.toBe(id1);
    expect(await c.registerSubject(subject, JSON.stringify(v2))).toBe(id2); // same schema, same id

    const incompatible = { ...v1, fields: [...v1.fields, { name: 'region', type: 'string' }] }; // new field, no default
    const err = await c.registerSubject(subject, JSON.stringify(incompatible)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AutopilotError);
    expect((err as AutopilotError).code).toBe('schema_incompatible');
    expect((err as AutopilotError).retriable).toBe(false);
    expect((err as AutopilotError).message).toContain(subject);
    expect((err as AutopilotError).message).toContain('optional with a default');
  });

  it('registers every topic and round-trips records through the Confluent wire format', async () => {
    const c = catalog();
    await c.registerAll();
    const point = { tenant: 't', timestamp: 1767225600000, metric_name: 'm', value: 1.5, labels: { service: 's' } };
    const wire = c.encode('metrics', point);
    expect(wire[0]).toBe(0);
    expect(wire.readUInt32BE(1)).toBe(c.schemaId('metrics'));
    expect(await catalog().decode(wire)).toEqual(point); // a fresh catalog fetches the schema by id
  });

  it('refuses what is not wire format or names an unknown schema id', async () => {
    const c = catalog();
    await expect(c.decode(Buffer.from('plain text'))).rejects.toBeInstanceOf(DecodeError);
    const unknown = Buffer.from([0, 0x7f, 0xff, 0xff, 0xff, 1, 2]);
    await expect(c.decode(unknown)).rejects.toThrow(/unknown to the registry/);
  });

  it('refuses to encode before its schema is registered', () => {
    const c = catalog();
    expect(() => c.encode('logs', { tenant: 't', timestamp: 0, level: 'info', message: '', service: 's', labels: {} })).toThrow(/not registered/);
    expect(TOPICS.logs.topic).toBe('autopilot.logs');
  });
});
