import type { Readable } from 'node:stream';
import type { Connection } from 'chdb/connection';

/**
 * The embedded engine's connection, one statement at a time and clean after
 * a failure.
 *
 * chdb keeps what a failing statement had already written and hands it to
 * the next statement on the connection: a SELECT that threw after five
 * one-row blocks left those five rows in front of the next SELECT's own
 * (chdb 3.4.0, measured; sql/stores/documents.test.ts keeps the case). Under
 * concurrent requests "the next statement" is anybody's: a DocumentStore read
 * that followed a failed `autopilot sql` query got the first half of a JSON
 * document ahead of its rows and answered 500.
 *
 * So statements take turns here (the engine runs one at a time per
 * connection anyway, so nothing is lost), and after a failure a throwaway
 * `SELECT 1` (ping) takes the leftover before the next statement's turn.
 */
export function takingTurns(inner: Connection<Readable>): Connection<Readable> {
  let previous: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(statement: () => Promise<T>): Promise<T> => {
    const turn = previous.then(async () => {
      try {
        return await statement();
      } catch (err) {
        await inner.ping({ select: true }); // never throws: answers { success: false } instead
        throw err;
      }
    });
    previous = turn.catch(() => undefined);
    return turn;
  };
  return {
    ping: (params) => inTurn(() => inner.ping(params)),
    query: (params) => inTurn(() => inner.query(params)),
    insert: (params) => inTurn(() => inner.insert(params)),
    command: (params) => inTurn(() => inner.command(params)),
    exec: (params) => inTurn(() => inner.exec(params)),
    // Statements already asked for still run, as they would have on the plain connection.
    close: () => previous.then(() => inner.close()),
  };
}
