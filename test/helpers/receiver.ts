import { createServer, type Server, type ServerResponse } from 'node:http';

/**
 * A stand-in for a Slack incoming webhook or any JSON webhook: records every
 * POST body and answers from a scripted list of status codes (200 once the
 * list is used up).
 */
export interface Receiver {
  url: string;
  bodies: unknown[];
  /** Status codes for the next requests, in order. */
  answer(...codes: number[]): void;
  /** Leaves the next request unanswered (a receiver that hangs); resolves once its body has arrived. */
  holdNext(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const bodies: unknown[] = [];
  const codes: number[] = [];
  const holds: (() => void)[] = [];
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const hold = holds.shift();
      if (hold) {
        held.push(res);
        hold();
        return;
      }
      const code = codes.shift() ?? 200;
      res.writeHead(code, { 'content-type': 'text/plain' }).end(code === 200 ? 'ok' : 'server_error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
    bodies,
    answer: (...c) => codes.push(...c),
    holdNext: () => new Promise<void>((resolve) => holds.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
      }),
  };
}
