import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { AutopilotError, describeError, unavailable } from '../lib/errors.ts';
import { subjectOf, TOPICS, type RecordKind, type RecordOf } from './topics.ts';

const SLAB_BYTES = 256 * 1024;

/**
 * Registers every topic's schema under `<topic>-value` and turns records into
 * Confluent wire format (magic byte 0, 4-byte schema id, Avro body) and back.
 *
 * Encoding is synchronous with a cached avsc Type: the registry library's own
 * `encode` is async per record, which costs more than the Avro work itself on
 * a 1000-record batch.
 */
export class SchemaCatalog {
  private readonly writers = new Map<RecordKind, { id: number; type: avro.Type; header: Buffer }>();
  private readonly readers = new Map<number, avro.Type>();
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private slabUsed = 0;

  constructor(readonly registry: SchemaRegistry) {}

  static connect(url: string): SchemaCatalog {
    return new SchemaCatalog(new SchemaRegistry({ host: url, retry: { retries: 2, initialRetryTimeInSecs: 0.2 } }));
  }

  get ready(): boolean {
    return this.writers.size === Object.keys(TOPICS).length;
  }

  /** Registers (or finds) every schema. An incompatible change stops the start, naming the subject. */
  async registerAll(): Promise<void> {
    for (const kind of Object.keys(TOPICS) as RecordKind[]) await this.registerOne(kind, TOPICS[kind].schema);
  }

  async registerOne(kind: RecordKind, schema: string): Promise<number> {
    const id = await this.registerSubject(subjectOf(TOPICS[kind].topic), schema);
    const type = avro.Type.forSchema(JSON.parse(schema));
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    this.writers.set(kind, { id, type, header });
    this.readers.set(id, type);
    return id;
  }

  /** Registers `schema` under `subject` with BACKWARD compatibility; a refusal says what to do about it. */
  async registerSubject(subject: string, schema: string, retried = false): Promise<number> {
    try {
      const { id } = await this.registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility: COMPATIBILITY.BACKWARD });
      return id;
    } catch (err) {
      const status = (err as { status?: number }).status;
      // Two processes registering a new subject at once: the loser's "set the subject's rule" finds the
      // winner's rule (Apicurio answers 409). The schema is registered; asking again returns its id.
      if (status === 409 && /already exists/i.test(describeError(err)) && !retried) return this.registerSubject(subject, schema, true);
      if (status === 409) {
        throw new AutopilotError(
          'schema_incompatible',
          `schema for ${subject} is not BACKWARD compatible with the registered version: ${describeError(err)}. ` +
            'Add new fields as optional with a default, or register under a new topic.',
          { cause: err },
        );
      }
      if (status === undefined || status >= 500) throw unavailable(`schema registry: ${describeError(err)}`, err);
      throw err;
    }
  }

  schemaId(kind: RecordKind): number | undefined {
    return this.writers.get(kind)?.id;
  }

  /**
   * The record in wire format, written straight into a shared slab (like
   * Node's own Buffer pool): one small view per record instead of two copies.
   * A slab is only ever written ahead of what was handed out, so views stay valid.
   */
  encode<K extends RecordKind>(kind: K, record: RecordOf<K>): Buffer {
    const writer = this.writers.get(kind);
    if (!writer) throw unavailable(`schema for ${kind} is not registered yet (schema registry unreachable at start?)`);
    let end: number;
    while ((end = this.writeAt(writer, record)) < 0) {
      // Not enough room left: a fresh slab, at least big enough for this record (avsc says how many bytes were missing).
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, this.slab.length - this.slabUsed - end));
      this.slabUsed = 0;
    }
    const view = this.slab.subarray(this.slabUsed, end);
    this.slabUsed = end;
    return view;
  }

  /** Header and Avro body at the slab's free space; the end offset, or minus the bytes missing. */
  private writeAt(writer: { type: avro.Type; header: Buffer }, record: unknown): number {
    if (this.slab.length - this.slabUsed < 5) return -5;
    writer.header.copy(this.slab, this.slabUsed);
    return writer.type.encode(record, this.slab, this.slabUsed + 5);
  }

  /** Decodes a wire-format message; throws on a bad header, an unknown id or a body that is not that schema. */
  async decode(message: Buffer): Promise<unknown> {
    if (message.length < 5 || message[0] !== 0) throw new DecodeError('not Confluent wire format (magic byte 0 expected)');
    const id = message.readUInt32BE(1);
    let type = this.readers.get(id);
    if (!type) {
      let schema: unknown;
      try {
        schema = await this.registry.getSchema(id);
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404) throw new DecodeError(`schema id ${id} is unknown to the registry`);
        throw unavailable(`schema registry: ${describeError(err)}`, err);
      }
      type = schema as avro.Type;
      this.readers.set(id, type);
    }
    try {
      return type.fromBuffer(message.subarray(5));
    } catch (err) {
      throw new DecodeError(`Avro body does not match schema ${id}: ${describeError(err)}`);
    }
  }
}

/** A message that will never decode: it belongs in the dead-letter topic, not in a retry loop. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  readonly retriable = false;
}
