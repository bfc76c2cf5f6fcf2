import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per component, labelled with its name, with the
 * Node process metrics. Components add their own counters to it; the
 * component's HTTP server exposes it at /metrics. A gateway worker passes its
 * cluster-aware registry (gateway/cluster.ts).
 */
export function createRegistry(component: string, registry = new Registry()): Registry {
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'autopilot_' });
  return registry;
}
