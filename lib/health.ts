import { withDeadline } from './deadline.ts';
import { describeError } from './errors.ts';

/**
 * A dependency a component needs to do its work. Readiness runs every check
 * with a deadline and reports which one failed, so an operator sees "kafka:
 * connection refused", not just 503.
 */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

export async function checkReadiness(checks: HealthCheck[], timeoutMs = 2000): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await withDeadline(c.check(), timeoutMs, `no answer within ${timeoutMs} ms`);
        return [c.name, { ok: true }] as const;
      } catch (err) {
        return [c.name, { ok: false, error: describeError(err) }] as const;
      }
    }),
  );
  const out = Object.fromEntries(results);
  return { ready: results.every(([, r]) => r.ok), checks: out };
}
