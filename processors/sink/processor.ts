import type { ClickHouseClient } from '@clickhouse/client';
import { describeError, unavailable } from '../../lib/errors.ts';
import { serialQueue } from '../../lib/serial.ts';
import type { Logger } from '../../lib/log.ts';
import { expressLane } from '../../sql/client.ts';
import { classifyClickHouseError } from '../../sql/errors.ts';
import { RowBinaryError, rowBinaryWriter, type RowBinaryWriter } from '../../sql/row-binary.ts';
import type { Rejected } from '../runtime/dead-letter.ts';
import type { SchemaCatalog } from '../../schemas/catalog.ts';
import type { BatchHandler, DeadLetter, Decoded, FlushResult, ProcessorSpec } from '../runtime/processor.ts';
import { Gathering, keptRecord, TopicGatherings, type Row } from './gathering.ts';
import { RAW_TABLES, type SinkTable } from './rows.ts';
import { MAX_DAYS_PER_INSERT, splitByDay, timeWindowError } from './time-window.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { sinkConfig, type SinkConfig } from './config.ts';
import { sinkTelemetry, type SinkTelemetry } from './telemetry.ts';

/**
 * The sink: records into ClickHouse.
 *
 * Rows go as RowBinaryWithNamesAndTypes (sql/row-binary.ts): on the embedded
 * engine about half the CPU of JSONEachRow per row, the engine's JSON parser
 * being most of the sink's cost (`npm run bench:clickhouse-insert`). The
 * header names each column with the table's own type (see rowBinaryWriter).
 *
 * High-rate tables (samples, logs: `gathered` in rows.ts) are written as
 * ClickHouse asks, in large inserts about once a second per table
 * (SINK_FLUSH_ROWS, SINK_FLUSH_MS): rows are encoded as their batches come
 * and gathered; a partition commits only up to its first row not yet
 * written, and the runtime's flush commits the rest once it is (see
 * ProcessorSpec.flush). A crash loses nothing: what was gathered is read
 * again, and rows are keyed by content, so a row written twice is one row.
 * Other tables (anomalies, incidents…) are written with each batch: a few
 * rows, and someone is waiting for them.
 *
 * What ClickHouse refuses is sorted by what its error means
 * (sql/errors.ts): bad data is isolated by halving the rows until the bad
 * records stand alone, and they are dead-lettered while the rest is written;
 * transient trouble is retried (the batch by the runtime; a gathering at the
 * next flush); an unknown error is retried too, until the last attempt, when
 * it is isolated like bad data, so one odd record never holds its partition.
 * A record with a sample the encoder cannot write, or outside its table's
 * retention, is dead-lettered whole; its other rows are still written (rows
 * are keyed by content, so replaying it from the dead-letter topic writes
 * them again harmlessly).
 */
export function sinkProcessor(
  ch: ClickHouseClient,
  opts: {
    groupId: string;
    config: SinkConfig;
    maxAttempts: number;
    log: Logger;
    telemetry: SinkTelemetry;
    /** To decode a gathering's records again, for an insert refused or cut by day (a gathering keeps their bytes only). */
    catalog: SchemaCatalog;
  },
): ProcessorSpec {
  const { config, maxAttempts, telemetry, catalog } = opts;
  const counted = (table: string, rows: number) => telemetry.rowsWritten.inc({ table }, rows);
  const writer = countingRows(rowBinaryWriter(ch), counted);
  // Event rows go by a connection of their own: someone waits for an anomaly row, and it must not queue behind a sample insert.
  let eventWriter: Promise<RowBinaryWriter> | undefined;
  const eventWriterOpen = () =>
    (eventWriter ??= expressLane(ch).then(
      (lane) => countingRows(rowBinaryWriter(lane), counted),
      (err: unknown) => {
        eventWriter = undefined; // opened again by the retried batch
        throw err;
      },
    ));
  const gatherings = new Map<string, TopicGatherings>();

  const handle: BatchHandler = async (batch, { finalAttempt }) => {
    const topic = batch[0]!.topic;
    const target = RAW_TABLES[topic];
    if (!target) throw new Error(`sink has no table for topic ${batch[0]!.topic}`);
    if (!target.gathered) return { rejected: await writeNow(target, batch, finalAttempt) };

    let topicGatherings = gatherings.get(topic);
    if (!topicGatherings) gatherings.set(topic, (topicGatherings = new TopicGatherings()));
    const tg = topicGatherings;
    const encoder = await writer.encoder(target.table); // read again after a failed insert: the table may have changed
    const rejected: Rejected[] = [];
    // Backpressure: full gatherings wait for ClickHouse. Wait for them; if ClickHouse refuses them for now,
    // this batch is not taken (transient: the partition waits and reads it again).
    if (tg.rows - (tg.open()?.rows ?? 0) >= 2 * config.flushRows) {
      await write(topic, (t) => t.sealed());
      const waiting = tg.rows - (tg.open()?.rows ?? 0);
      if (waiting >= 2 * config.flushRows) throw unavailable(`sink: ${waiting} rows of ${target.table} wait for ClickHouse`);
    }
    const now = Date.now();
    let g = tg.current(() => new Gathering(encoder.batch()));
    const saw = (time: number) => g.saw(time);
    for (const d of batch) {
      g.records.push(keptRecord(d));
      g.covers(d.partition, BigInt(d.offset), BigInt(d.offset) + 1n);
      let refused: string | undefined;
      try {
        refused = target.encode
          ? target.encode(d, g.payload, encoder, now, saw)
          : toRows(target, [d], (r, time) => {
              g.payload.add(r.row);
              saw(Number(time));
            })[0]?.reason;
      } catch (err) {
        if (!(err instanceof RowBinaryError)) throw err;
        refused = `encode: ${err.message}`;
      }
      if (refused) rejected.push({ message: d.message, partition: d.partition, reason: refused });
      // A full gathering is written while this batch and the next go on (the engine inserts on threads of its own).
      // Not awaited: the consumer fetches again only once every batch of a fetch is handled, so a batch waiting
      // for a large insert would hold up every other partition and topic, the anomalies someone waits for among them.
      // Its partitions commit past it only once it is written (pendingFrom), by the flush.
      if (g.rows >= config.flushRows) {
        write(topic, (t) => t.seal()).catch((err: unknown) =>
          opts.log.warn({ table: target.table, err: describeError(err) }, 'gathered rows not written; retried at the next flush'),
        );
        g = tg.current(() => new Gathering(encoder.batch()));
      }
    }
    telemetry.rowsGathered.set({ table: target.table }, tg.rows);
    const pending = tg.pendingFrom(batch[0]!.partition);
    return { rejected, ...(pending !== undefined ? { commitOffset: pending.toString() } : {}) };
  };

  /**
   * Writes the gatherings `pick` chooses of a topic, oldest first, one write
   * at a time per topic; stops at one ClickHouse refuses for now (it stays,
   * and is retried at the next flush). Rows ClickHouse refuses as bad data
   * are isolated, and their records wait in the gathering for the flush to
   * dead-letter them.
   */
  const lanes = new Map<string, ReturnType<typeof serialQueue>>();
  function write(topic: string, pick: (t: TopicGatherings) => Gathering[]): Promise<void> {
    const run = async () => {
      const topicGatherings = gatherings.get(topic)!;
      const target = RAW_TABLES[topic]!;
      const timeOf = (r: Row) => r.row[target.time.column];
      // The rows again from their records, decoded again, as objects: only for an insert cut by day or by halving.
      const rowsOf = async (g: Gathering) => {
        const records: Decoded[] = [];
        for (const r of g.records) records.push({ topic, ...r, value: await catalog.decode(r.message.value!) });
        const rows: Row[] = [];
        toRows(target, records, (r) => rows.push(r)); // records refused here were dead-lettered when gathered
        return rows;
      };
      for (const g of pick(topicGatherings)) {
        const refused: Rejected[] = [];
        try {
          if (g.fitsOneInsert(MAX_DAYS_PER_INSERT)) await writer.insert(target.table, g.payload.chunks(), g.rows);
          else
            for (const part of splitByDay(await rowsOf(g), timeOf))
              await writer.insertRows(
                target.table,
                part.map((r) => r.row),
              );
        } catch (err) {
          g.attempts++;
          const last = g.attempts >= maxAttempts;
          if (!isolating(err, last)) {
            opts.log.warn(
              { table: target.table, rows: g.rows, attempt: g.attempts, err: describeError(err) },
              'gathered rows not written; retried at the next flush',
            );
            break;
          }
          for (const part of splitByDay(await rowsOf(g), timeOf)) await insertIsolatingBadRows(writer, target, part, refused, last);
        }
        topicGatherings.written(g, refused);
      }
      telemetry.rowsGathered.set({ table: target.table }, topicGatherings.rows);
    };
    let lane = lanes.get(topic);
    if (!lane) lanes.set(topic, (lane = serialQueue()));
    return lane.run(run);
  }

  /**
   * The runtime's flush: gatherings due (by age, or all when stopping) and
   * earlier failed ones are written, refused records are dead-lettered, and
   * what the written gatherings covered is committed.
   */
  const flush = async (final: boolean, deadLetter: DeadLetter): Promise<FlushResult> => {
    const result: FlushResult = { commits: [] };
    for (const [topic, topicGatherings] of gatherings) {
      const due = (t: TopicGatherings) => (final || (t.open()?.age() ?? 0) >= config.flushMs ? t.seal() : t.sealed());
      await write(topic, due);
      for (const [g, refused] of topicGatherings.refusals()) {
        await deadLetter(topic, refused);
        topicGatherings.release(g);
      }
      for (const [partition, next] of topicGatherings.takeCovered())
        result.commits.push({ topic, partition, offset: (topicGatherings.pendingFrom(partition) ?? next).toString() });
    }
    return result;
  };

  /** Rows of a low-rate table, written with their batch. */
  async function writeNow(target: SinkTable, batch: Decoded[], finalAttempt: boolean): Promise<Rejected[]> {
    const writer = await eventWriterOpen();
    const payload = (await writer.encoder(target.table)).batch();
    const rows: Row[] = [];
    const rejected = toRows(target, batch, (row) => {
      payload.add(row.row);
      rows.push(row);
    });
    const days = splitByDay(rows, (r) => r.row[target.time.column]);
    // The common case, one insert: the payload already built while checking the rows.
    if (days.length === 1 && rows.length > 0) {
      try {
        await writer.insert(target.table, payload.bytes(), payload.rows);
        return rejected;
      } catch (err) {
        if (!isolating(err, finalAttempt)) throw err;
      }
    }
    for (const part of days) await insertIsolatingBadRows(writer, target, part, rejected, finalAttempt);
    return rejected;
  }

  return {
    name: 'sink',
    groupId: opts.groupId,
    topics: Object.keys(RAW_TABLES),
    handle,
    flush: { everyMs: Math.max(50, Math.floor(config.flushMs / 4)), run: flush },
    // Gathered rows of a partition read again from its last commit are gathered again: written twice, kept once.
    close: async () => {
      writer.close();
      (await eventWriter?.catch(() => undefined))?.close();
    },
  };
}

/** The writer, counting the rows of each insert that succeeded (a payload counts the rows its encoder batch took). */
function countingRows(inner: RowBinaryWriter, counted: (table: string, rows: number) => void): RowBinaryWriter {
  return {
    ...inner,
    insert: async (table, payload, rows) => {
      await inner.insert(table, payload, rows);
      counted(table, rows);
    },
    insertRows: async (table, rows) => {
      await inner.insertRows(table, rows);
      counted(table, rows.length);
    },
  };
}

/**
 * The rows of a batch's records, each checked against its table's retention
 * and encoded (by `add`, which throws a RowBinaryError for a row it cannot
 * encode). Returns the records refused, one reason each.
 */
function toRows(target: SinkTable, batch: Decoded[], add: (row: Row, time: unknown) => void): Rejected[] {
  const refused = new Map<Decoded, string>();
  const records: Record<string, unknown>[] = [];
  const now = Date.now();
  const { column, retentionDays } = target.time;
  for (const d of batch) {
    records.length = 0;
    target.rows(d, records);
    for (const row of records) {
      const outside = timeWindowError(row[column], retentionDays, now);
      if (outside) {
        refused.set(d, `event time: ${column} ${outside}`);
        continue;
      }
      try {
        add({ d, row }, row[column]);
      } catch (err) {
        if (!(err instanceof RowBinaryError)) throw err;
        refused.set(d, `encode: ${err.message}`);
      }
    }
  }
  return [...refused].map(([d, reason]) => ({ message: d.message, partition: d.partition, reason }));
}

/** Whether a failed insert is cut down to find its bad rows (bad data, or anything unknown on the last attempt), or retried. */
const isolating = (err: unknown, finalAttempt: boolean) => {
  const kind = classifyClickHouseError(err);
  return kind === 'bad_data' || (kind === 'unknown' && finalAttempt);
};

async function insertIsolatingBadRows(writer: RowBinaryWriter, target: SinkTable, rows: Row[], rejected: Rejected[], finalAttempt: boolean): Promise<void> {
  if (rows.length === 0) return;
  try {
    await writer.insertRows(
      target.table,
      rows.map((r) => r.row),
    );
  } catch (err) {
    if (!isolating(err, finalAttempt)) throw err;
    if (rows.length === 1) {
      const label = classifyClickHouseError(err) === 'bad_data' ? 'clickhouse' : 'clickhouse (unknown error, last attempt)';
      rejected.push({ message: rows[0]!.d.message, partition: rows[0]!.d.partition, reason: `${label}: ${describeError(err)}` });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await insertIsolatingBadRows(writer, target, rows.slice(0, half), rejected, finalAttempt);
    await insertIsolatingBadRows(writer, target, rows.slice(half), rejected, finalAttempt);
  }
}

export const sink = defineProcessor({
  name: 'sink',
  needsClickHouse: true,
  config: sinkConfig,
  create: (config, s) =>
    sinkProcessor(s.clickhouse(), {
      groupId: s.groupId,
      config,
      maxAttempts: s.runtime.maxAttempts,
      log: s.log,
      telemetry: sinkTelemetry(s.registry),
      catalog: s.catalog,
    }),
});
