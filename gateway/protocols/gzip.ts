import { gunzipSync } from 'node:zlib';
import { AutopilotError, badRequest, describeError } from '../../lib/errors.ts';

/** A body that decompresses past what the gateway reads: 413, as a body over the size limit is. */
export const tooLarge = (bytes: number | string, limit: number) =>
  new AutopilotError('payload_too_large', `body decompresses to ${bytes} bytes, over the limit of ${limit}; send smaller batches`);

/** `body` gunzipped, refused (413) once it passes `limit` bytes, or (400) when it is not gzip. */
export function gunzipLimited(body: Uint8Array, limit: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`more than ${limit}`, limit);
    throw badRequest(`malformed gzip: ${describeError(err)}`);
  }
}
