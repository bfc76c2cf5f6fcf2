import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';
import { SecretBox } from '../../lib/secrets.ts';
import { allowLoopbackTargets } from '../../tenant-config/url-guard.ts';

/**
 * The executor's settings from EXECUTE_* variables (unknown ones refused),
 * AUTOPILOT_SECRET_KEY (to open actions' secrets) and NOTIFY_ALLOW_LOOPBACK
 * (the one rule for whether an outgoing request may reach this host).
 */
const schema = z.strictObject({
  /** One action's call, request and answer. */
  EXECUTE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * How long a service's running lock outlives its executor: an executor
   * killed mid-call leaves the lock, and its proposal is failed as
   * interrupted (never called again) once the lock has lapsed.
   */
  EXECUTE_LOCK_MS: z.coerce.number().int().min(1000).default(120_000),
  /** How often policies and actions are read again. */
  EXECUTE_REFRESH_SECONDS: z.coerce.number().positive().default(5),
});

export interface ExecuteConfig {
  timeoutMs: number;
  lockMs: number;
  refreshMs: number;
  allowLoopback: boolean;
  box: SecretBox | undefined;
}

export function executeConfig(env: NodeJS.ProcessEnv = process.env): ExecuteConfig {
  const c = schema.parse(variablesWithPrefix(env, 'EXECUTE_'));
  return {
    timeoutMs: c.EXECUTE_TIMEOUT_MS,
    lockMs: Math.max(c.EXECUTE_LOCK_MS, c.EXECUTE_TIMEOUT_MS + 1000),
    refreshMs: c.EXECUTE_REFRESH_SECONDS * 1000,
    allowLoopback: allowLoopbackTargets(env),
    box: SecretBox.fromEnv(env),
  };
}
