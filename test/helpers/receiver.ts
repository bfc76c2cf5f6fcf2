import { createServer, type Server } from 'node:http';

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
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const bodies: unknown[] = [];
  const codes: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
