import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an outside API (GitHub, a Kubernetes API server, a Docker
 * Engine): records every request (method, path, headers, body) and answers
 * with `status` (default 200), optionally after `delayMs`.
 */
export interface Recorder {
  url: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[];
  respond(o: { status?: number; body?: string; delayMs?: number }): void;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  let answer: { status?: number; body?: string; delayMs?: number } = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status = 200, body = '{}', delayMs = 0 } = answer;
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? undefined : body);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    respond: (o) => void (answer = o),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
