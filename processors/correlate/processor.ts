import type { Redis } from 'ioredis';
import { everyInterval, serialQueue } from '../../lib/serial.ts';
import { alertSignalSeverity, type AnomalySeverity } from '../../lib/severity.ts';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type AlertRecord, type Anomaly, type DeploymentEvent, type ExternalStatusChange, type IncidentRecord } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { applySignal, emptyServiceState, resolveIfQuiet, type CorrelationConfig, type Incident, type ServiceState, type Signal } from './incidents.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { correlateConfig } from './config.ts';

/**
 * The correlate processor: anomalies, deployments, firing alerts and degraded
 * third-party dependencies of a service become incidents. Per-service state
 * lives in Redis and is updated with optimistic locking (WATCH), so two
 * processes that happen to hold a service's anomaly and deployment
 * partitions cannot overwrite each other. WATCH belongs to a
 * connection, so this process runs its updates one at a time on a connection
 * of their own (found by the scenario test: two batches of one service, in
 * flight together on a shared connection, lost an update). Incident versions
 * are published before the state is saved; a replayed signal is recognised by
 * its id and changes nothing.
 */

export function toSignal(d: Decoded): { tenant: string; service: string; signal: Signal } | null {
  if (d.topic === TOPICS.alerts.topic) {
    const a = d.value as AlertRecord;
    if (a.status !== 'firing') return null; // a resolved alert is not a new problem; quiet resolution handles the incident
    const summary = `alert ${a.alert_name} firing (${a.severity})${a.annotations.summary ? `: ${a.annotations.summary}` : ''}`;
    // An alert has already waited out its own `for`: it is a sustained signal, like a run of anomalies.
    return {
      tenant: a.tenant,
      service: a.service,
      signal: { id: a.alert_id, kind: 'alert', at: a.starts_at, summary, severity: alertSignalSeverity(a.severity), source: `alert:${a.fingerprint}` },
    };
  }
  if (d.topic === TOPICS.externalStatus.topic) return dependencySignal(d.value as ExternalStatusChange);
  if (d.topic === TOPICS.deployments.topic) {
    const e = d.value as DeploymentEvent;
    const summary = `deployed ${e.version} (${e.status})${e.metadata.commit ? ` commit ${e.metadata.commit}` : ''}`;
    return {
      tenant: e.tenant,
      service: e.service,
      signal: { id: `dep_${d.partition}_${d.offset}`, kind: 'deployment', at: e.timestamp, summary, version: e.version },
    };
  }
  const a = d.value as Anomaly;
  const summary = `${a.metric_name} = ${round(a.current_value)} vs baseline ${round(a.baseline_median)} (z ${round(a.z_score)})`;
  const kind = a.kind === 'error_rate' ? 'error_spike' : 'anomaly';
  return {
    tenant: a.tenant,
    service: a.service,
    signal: {
      id: a.anomaly_id,
      kind,
      at: a.detected_at,
      summary,
      severity: a.severity,
      consecutive: a.level_shift ? Math.max(2, a.consecutive) : a.consecutive,
      source: `${a.metric_name}${JSON.stringify(a.labels)}`,
    },
  };
}

/**
 * A third-party status change as a signal for the service that depends on it. Only a change that leaves
 * the subject degraded is a problem: a recovery is not a new one (like a resolved alert; quiet resolution
 * handles the incident), and a change no service is mapped to ('' service) has no incident to join. The
 * change id is stable per change and service, so a replayed or re-polled change is recognised.
 */
export function dependencySignal(c: ExternalStatusChange): { tenant: string; service: string; signal: Signal } | null {
  if (!c.degraded || c.service === '') return null;
  const subject = c.subject_kind === 'component' ? c.subject_name : c.subject_kind === 'page' ? 'status page' : `${c.subject_kind} "${c.subject_name}"`;
  return {
    tenant: c.tenant,
    service: c.service,
    signal: {
      id: c.change_id,
      kind: 'dependency',
      at: c.at,
      summary: `${c.provider}: ${subject} ${c.to_status} (${c.impact})`,
      severity: DEPENDENCY_SEVERITY.get(c.impact) ?? 'medium',
      // One provider in trouble shows as its page, components and incident changing together: one source.
      source: `dependency:${c.provider}`,
      planned: c.impact === 'maintenance',
    },
  };
}

/** The provider's impact on the detector's grades: a major outage is worth a high anomaly, a critical one a critical one; the rest (and a word not known) medium. */
const DEPENDENCY_SEVERITY = new Map<string, AnomalySeverity>([
  ['critical', 'critical'],
  ['major', 'high'],
]);

/**
 * Signals close incidents as they arrive (a late signal first resolves an
 * incident that has been quiet long enough), but a service that simply
 * recovers sends none: every `sweepMs` the open incidents are checked against
 * the wall clock and resolved once quiet for the quiet period.
 */
export function correlateProcessor(deps: { redis: Redis; publisher: Publisher; config: CorrelationConfig; sweepMs: number; groupId: string }): ProcessorSpec {
  // Redis keys live under the consumer group: the state belongs to the group's progress.
  const stateKey = (tenant: string, service: string) => `${deps.groupId}:${tenant}:${service}`;
  /** The services with an open incident, for the sweep that resolves quiet ones on the wall clock. */
  const OPEN_SET = `${deps.groupId}:open`;
  const redis = deps.redis.duplicate();
  const updates = serialQueue();

  const handle = async (batch: Decoded[]) => {
    // In event-time order within the batch, per service.
    const byService = new Map<string, NonNullable<ReturnType<typeof toSignal>>[]>();
    for (const d of batch) {
      const s = toSignal(d);
      if (!s) continue;
      const key = stateKey(s.tenant, s.service);
      const list = byService.get(key);
      if (list) list.push(s);
      else byService.set(key, [s]);
    }
    for (const [key, signals] of byService) {
      const sorted = [...signals].sort((a, b) => a.signal.at - b.signal.at);
      await updates.run(() => updateService(key, (state) => sorted.flatMap((s) => applySignal(state, s.tenant, s.service, s.signal, deps.config))));
    }
    return { rejected: [] };
  };

  /** Read, change and write one service's state under WATCH; publish what changed before saving. */
  async function updateService(key: string, change: (state: ServiceState) => Incident[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await redis.watch(key);
      const raw = await redis.get(key);
      const state: ServiceState = raw ? JSON.parse(raw) : emptyServiceState();
      // One record per incident per update: its latest version says everything the earlier ones did.
      const latest = new Map(change(state).map((i) => [i.incident_id, i]));
      await deps.publisher.publish('incidents', [...latest.values()].map(toRecord));
      const tx = redis.multi().set(key, JSON.stringify(state));
      if (state.open) tx.sadd(OPEN_SET, key);
      else tx.srem(OPEN_SET, key);
      if (await tx.exec()) return; // null: the key changed under us; read again and re-apply (ids make that safe)
      if (attempt > 20) throw new Error(`could not update ${key}: too much contention`);
    }
  }

  const sweep = async () => {
    for (const key of await redis.smembers(OPEN_SET)) {
      await updates.run(() =>
        updateService(key, (state) => {
          const resolved = resolveIfQuiet(state, Date.now(), deps.config);
          return resolved ? [resolved] : [];
        }),
      );
    }
  };
  const sweeper = everyInterval(deps.sweepMs, sweep); // a failed sweep is simply retried next tick

  return {
    name: 'correlate',
    groupId: deps.groupId,
    topics: [TOPICS.anomalies.topic, TOPICS.deployments.topic, TOPICS.alerts.topic, TOPICS.externalStatus.topic],
    handle,
    close: async () => {
      sweeper.stop();
      await updates.idle();
      redis.disconnect();
    },
  };
}

function toRecord({ first_problem_at: _, ...i }: Incident): IncidentRecord {
  return { ...i, signals: i.signals.map((s) => ({ id: s.id, kind: s.kind, at: s.at, summary: s.summary, severity: s.severity ?? null })) };
}

const round = (n: number) => Math.round(n * 100) / 100;

export const correlate = defineProcessor({
  name: 'correlate',
  needsClickHouse: false,
  config: correlateConfig,
  create: ({ sweepMs, ...config }, s) => correlateProcessor({ redis: s.redis, publisher: s.publisher, config, sweepMs, groupId: s.groupId }),
});
