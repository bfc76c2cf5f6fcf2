import type { ServiceName, StackConfig } from './config.ts';
import type { LaunchSpec } from './process.ts';

export type Progress = (msg: string) => void;

/** What the stack needs to know to fetch, start, probe and stop one native service. */
export interface ServiceDefinition {
  name: ServiceName;
  port(cfg: StackConfig): number;
  /** Text found in the service's command line; tells our process apart from a recycled pid. */
  processMarker: string;
  /** How long a cold start may take before we give up and show its log. */
  bootTimeoutMs: number;
  /** How long SIGTERM gets before SIGKILL. */
  stopGraceMs: number;
  /** Downloads or installs whatever the service needs; cheap when already cached. */
  fetch(cfg: StackConfig, progress: Progress): Promise<void>;
  /** Prepares config and data folders and says what to run. */
  prepareLaunch(cfg: StackConfig, progress: Progress): Promise<LaunchSpec>;
  isAnswering(cfg: StackConfig): Promise<boolean>;
  /** Runs once the service answers after we started it. */
  afterReady?(cfg: StackConfig): Promise<void>;
}
