import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for a receiver or an outside API on 127.0.0.1, for tests
 * that script each answer: request n gets `script(res, n, req)` (an answer
 * may be late, or never come), and every request is recorded. Call
 * `closeScriptedServers()` after each test: answers still pending must not
 * hold a server open past its test. For a fixed answer, recorder.ts is enough.
 */
export interface ScriptedServer {
  /** http://127.0.0.1:<port> */
  base: string;
  port: number;
  requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  /** Closes it now: its port then refuses connections. */
  close(): Promise<void>;
}

export type Script = (res: ServerResponse, n: number, req: IncomingMessage) => void;

const servers: Server[] = [];

export async function scriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      script(res, requests.length, req);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const close = () => {
    servers.splice(servers.indexOf(server), 1);
    return shut(server);
  };
  return { base: `http://127.0.0.1:${port}`, port, requests, close };
}

export async function closeScriptedServers(): Promise<void> {
  await Promise.all(servers.splice(0).map(shut));
}

const shut = (s: Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    s.closeAllConnections();
  });

/** An answer: a string body as text/plain, anything else as JSON. */
export const answer =
  (status: number, body: unknown = '', headers: Record<string, string> = {}) =>
  (res: ServerResponse): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers }).end(text);
  };
