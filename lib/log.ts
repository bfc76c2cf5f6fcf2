import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for CLI output).
 * Anything that could hold a credential is redacted at the logger, so a
 * careless `log.info({ headers })` cannot leak an API key.
 */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      name: component,
      level,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
