import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';
import { allowLoopbackSetting } from '../../tenant-config/url-guard.ts';

/** Notification settings from NOTIFY_* variables; unknown ones are refused. The gateway reads NOTIFY_ALLOW_LOOPBACK too (allowLoopbackTargets), to validate targets. */
const schema = z.strictObject({
  /** One notification per tenant, service and reason within this (a remediation proposal's versions are not held back). */
  NOTIFY_COOLDOWN_SECONDS: z.coerce.number().min(0).default(300),
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  NOTIFY_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  NOTIFY_BACKOFF_MS: z.coerce.number().int().min(0).default(500),
  /** Loopback targets (localhost) are refused unless this is true: tests and single-host setups. */
  NOTIFY_ALLOW_LOOPBACK: allowLoopbackSetting,
  /** Base of the incident links in notifications: where people reach this gateway. */
  NOTIFY_PUBLIC_URL: z.string().url().default('http://localhost:8080'),
});

export interface NotifyConfig {
  cooldownMs: number;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  allowLoopback: boolean;
  publicUrl: string;
}

export function notifyConfig(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const c = schema.parse(variablesWithPrefix(env, 'NOTIFY_'));
  return {
    cooldownMs: c.NOTIFY_COOLDOWN_SECONDS * 1000,
    timeoutMs: c.NOTIFY_TIMEOUT_MS,
    retries: c.NOTIFY_RETRIES,
    backoffMs: c.NOTIFY_BACKOFF_MS,
    allowLoopback: c.NOTIFY_ALLOW_LOOPBACK,
    publicUrl: c.NOTIFY_PUBLIC_URL.replace(/\/$/, ''),
  };
}
