import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveChecked, type GuardOptions } from './url-guard.ts';

/** What a delivery or a job needs from an HTTP client; the global `fetch` fits it too. */
export interface GuardedResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export interface GuardedInit {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  redirect: 'manual';
}
export type RequestFn = (url: string, init: GuardedInit) => Promise<GuardedResponse>;
/** Notifications only POST. */
export type PostFn = (url: string, init: GuardedInit & { method: 'POST'; body: string }) => Promise<GuardedResponse>;

/** Enough of a response body for an error message; the rest is read and dropped. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * An HTTP request over node:http(s) with the URL guard in the connection's
 * own DNS lookup: the address the socket connects to is the address that was
 * checked, so a name that answers "public" to the pre-check and "metadata"
 * to the connect (DNS rebinding) is still refused. Redirects are not
 * followed: a 3xx is the answer, and a redirect cannot lead past the guard.
 * (IP-literal hosts skip the lookup; `checkOutgoingUrl` has judged them.)
 * The body read is capped at `maxBodyBytes` (64 KiB unless said); the rest
 * is read and dropped.
 */
export function guardedRequest(guard: GuardOptions, opts: { maxBodyBytes?: number } = {}): RequestFn {
  const lookup = guardedLookup(guard);
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  return (url, init) =>
    new Promise<GuardedResponse>((resolve, reject) => {
      const target = new URL(url);
      const client = target.protocol === 'https:' ? https : http;
      const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
      const req = client.request(target, { method: init.method, headers, signal: init.signal, lookup, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < maxBody) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          const body = Buffer.concat(chunks).subarray(0, maxBody).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
            text: async () => body,
          });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A `net` lookup that resolves through the guard and answers only with checked addresses. */
export function guardedLookup(guard: GuardOptions): LookupFunction {
  return (hostname, options, callback) => {
    resolveChecked(hostname, guard).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`target host ${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          callback(null, wanted);
        } else {
          callback(null, wanted[0]!.address, wanted[0]!.family);
        }
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}
