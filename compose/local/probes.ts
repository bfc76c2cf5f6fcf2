import { connect, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';

/** True when something accepts TCP connections on localhost:port. */
export function portAcceptsConnections(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: 'localhost', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveProbe(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Redis is ready once it answers PING (it refuses commands with -LOADING while reading its data). */
export function redisAnswersPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket: Socket = connect({ host: 'localhost', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolveProbe(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
  });
}

export async function httpAnswersOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A KRaft controller speaks only to brokers and admin tools, not the metadata
 * API kafkajs asks: an ApiVersions request (v0, which every Kafka answers)
 * answered without error tells it from any other program on the port.
 */
export function kafkaAnswersApiVersions(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: 'localhost', port });
    const clientId = Buffer.from('autopilot-stack-probe');
    const correlationId = 0x5eed;
    // size, api_key 18 (ApiVersions), api_version 0, correlation_id, client_id (int16 length + bytes); v0 has no body.
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    request.writeInt32BE(request.length - 4, 0);
    request.writeInt16BE(18, 4);
    request.writeInt16BE(0, 6);
    request.writeInt32BE(correlationId, 8);
    request.writeInt16BE(clientId.length, 12);
    clientId.copy(request, 14);
    let reply = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.destroy();
      resolveProbe(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      // size (4), correlation_id (4), error_code (2)
      if (reply.length >= 10) done(reply.readInt32BE(4) === correlationId && reply.readInt16BE(8) === 0);
    });
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
  });
}

function probeClient(port: number, timeoutMs: number): Kafka {
  return new Kafka({
    clientId: 'autopilot-stack-probe',
    brokers: [`localhost:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
}

/**
 * An open port is not a ready broker: the socket server accepts connections
 * before the broker has registered with the controller. A metadata round trip
 * that lists at least one broker is (with `nodeId`: that lists this broker).
 */
export async function kafkaAnswersMetadata(port: number, opts: { nodeId?: number; timeoutMs?: number } = {}): Promise<boolean> {
  if (!(await portAcceptsConnections(port))) return false;
  const admin = probeClient(port, opts.timeoutMs ?? 3000).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return opts.nodeId === undefined ? cluster.brokers.length > 0 : cluster.brokers.some((b) => b.nodeId === opts.nodeId);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The first consumer group on a fresh broker makes it create __consumer_offsets,
 * and until that is done clients log "group coordinator is not available".
 * Asking for a group's coordinator once, here, takes that wait out of the tests.
 */
export async function warmUpGroupCoordinator(port: number): Promise<void> {
  const admin = new Kafka({ clientId: 'autopilot-stack-probe', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING }).admin({
    retry: { retries: 10, initialRetryTime: 200 },
  });
  try {
    await admin.connect();
    await admin.describeGroups(['autopilot-stack-warmup']);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
