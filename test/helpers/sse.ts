/**
 * A server-sent event stream read as a client reads it (the EventSource
 * wire format): messages split on blank lines, each with its fields. Tests
 * wait for what they expect with `until`, never for a quiet moment.
 */
export interface SseMessage {
  event?: string;
  data?: string;
  retry?: number;
  /** Text of a comment line (": …"), as heartbeats send. */
  comment?: string;
}

export interface SseReader {
  /** The next message, or undefined once the stream has ended. */
  next(): Promise<SseMessage | undefined>;
  /** Messages up to and including the first that `match`es; throws if the stream ends or `timeoutMs` passes first. */
  until(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage[]>;
  /** The client goes away. */
  cancel(): Promise<void>;
}

export function sseReader(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<SseMessage | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return parse(block);
      }
      const { done, value } = await reader.read();
      if (done) return undefined;
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return {
    next,
    async until(match, timeoutMs = 20_000) {
      const seen: SseMessage[] = [];
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(seen)}`)), timeoutMs);
      });
      try {
        for (;;) {
          const m = await Promise.race([next(), timeout]);
          if (m === undefined) throw new Error(`the stream ended first; got ${JSON.stringify(seen)}`);
          seen.push(m);
          if (match(m)) return seen;
        }
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: () => reader.cancel(),
  };
}

function parse(block: string): SseMessage {
  const m: SseMessage = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) m.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) m.event = line.slice(7);
    else if (line.startsWith('data: ')) m.data = m.data === undefined ? line.slice(6) : `${m.data}\n${line.slice(6)}`;
    else if (line.startsWith('retry: ')) m.retry = Number(line.slice(7));
  }
  return m;
}
