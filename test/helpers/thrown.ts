import { expect } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';

/** The error `fn` throws, which must be an AutopilotError: bad input becomes a 4xx, never a 5xx. */
export function thrownAutopilotError(fn: () => unknown): AutopilotError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    return err as AutopilotError;
  }
  throw new Error('expected an AutopilotError, nothing was thrown');
}
