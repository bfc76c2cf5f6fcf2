/**
 * The synthetic fleet the processor benchmark feeds: `series` series of one
 * latency metric over 50 services, each normal around a level of its own.
 * Normal, not uniform: the detector judges against median and MAD, and a
 * uniform series never leaves 2.5 robust deviations, so it would never show
 * the anomaly path (with normal data about 1% of samples do, as in life).
 */
export interface FleetSample {
  timestamp: number;
  metric_name: string;
  value: number;
  labels: Record<string, string>; // keys sorted, as the gateway sorts them
}

export function fleetSample(series: number, timestamp: number): FleetSample {
  const level = 50 + (series % 100) * 5;
  const value = Math.round((level + gaussian() * level * 0.1) * 100) / 100;
  return { timestamp, metric_name: 'http_request_duration_ms', value, labels: { environment: 'prod', instance: `i-${series}`, service: `svc-${series % 50}` } };
}

/** Standard normal, by Box–Muller. */
function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}
