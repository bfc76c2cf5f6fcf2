import http from 'node:http';

/**
 * A closed-loop HTTP load generator: `concurrency` workers each send the next
 * body as soon as the previous answer arrives, for `seconds`. Latencies of
 * 2xx answers are kept for percentiles; anything else is counted as a failure.
 */
export interface LoadResult {
  requests: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
  firstFailure?: string;
}

export async function closedLoop(opts: {
  url: string;
  headers: Record<string, string>;
  bodies: () => Buffer;
  concurrency: number;
  seconds: number;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latenciesMs: number[] = [];
  let requests = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const { status, text } = await post(opts.url, opts.headers, opts.bodies(), agent);
      requests++;
      if (status >= 200 && status < 300) latenciesMs.push(performance.now() - t0);
      else {
        failures++;
        firstFailure ??= `${status} ${text.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests, failures, seconds, latenciesMs, firstFailure };
}

function post(url: string, headers: Record<string, string>, body: Buffer, agent: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
