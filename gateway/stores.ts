import type { ClickHouseClient } from '@clickhouse/client';
import { unavailable } from '../lib/errors.ts';
import { AgentPriceStore } from '../sql/stores/agent-prices.ts';
import { AssistantStore } from '../sql/stores/assistant.ts';
import { DocumentStore } from '../sql/stores/documents.ts';
import { IncidentStore } from '../sql/stores/incidents.ts';
import { JobResultStore } from '../sql/stores/job-results.ts';
import { PromptStore } from '../sql/stores/prompts.ts';
import { ProposalStore } from '../sql/stores/proposals.ts';
import type { Action } from '../tenant-config/actions.ts';
import type { Policy, RemediationSettings } from '../tenant-config/remediation-policies.ts';
import type { Experiment } from '../tenant-config/experiments.ts';
import type { Rule } from '../tenant-config/alert-rules.ts';
import type { Job } from '../tenant-config/jobs.ts';
import type { NotificationTarget } from '../tenant-config/notification-targets.ts';

/** What the read/config API keeps in ClickHouse. */
export interface GatewayStores {
  incidents: IncidentStore;
  prompts: PromptStore;
  rules: DocumentStore<Rule>;
  targets: DocumentStore<NotificationTarget>;
  experiments: DocumentStore<Experiment>;
  agentPrices: AgentPriceStore;
  jobs: DocumentStore<Job>;
  jobResults: JobResultStore;
  assistant: AssistantStore;
  actions: DocumentStore<Action>;
  policies: DocumentStore<Policy>;
  /** One document per tenant, id `settings` (REMEDIATION_SETTINGS_ID). */
  remediationSettings: DocumentStore<RemediationSettings>;
  proposals: ProposalStore;
}

export function createStores(ch: ClickHouseClient): GatewayStores {
  return {
    incidents: new IncidentStore(ch),
    prompts: new PromptStore(ch),
    rules: new DocumentStore(ch, 'alert_rules'),
    targets: new DocumentStore(ch, 'notification_targets'),
    experiments: new DocumentStore(ch, 'experiments'),
    agentPrices: new AgentPriceStore(ch),
    jobs: new DocumentStore(ch, 'jobs'),
    jobResults: new JobResultStore(ch),
    assistant: new AssistantStore(ch),
    actions: new DocumentStore(ch, 'actions'),
    policies: new DocumentStore(ch, 'remediation_policies'),
    remediationSettings: new DocumentStore(ch, 'remediation_settings'),
    proposals: new ProposalStore(ch),
  };
}

/**
 * The stores (or anything else this process has only with ClickHouse: the
 * client, the live feed), or a 503 that says why: the embedded engine belongs
 * to the processors' process.
 */
export function requireStores<T = GatewayStores>(stores: T | undefined): T {
  if (!stores) throw unavailable('this endpoint reads ClickHouse: run the gateway with the processors (npm start) or set CLICKHOUSE_URL', undefined, 30);
  return stores;
}
