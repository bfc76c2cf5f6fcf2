import { randomUUID } from 'node:crypto';
import type { GatewayStores } from '../../gateway/stores.ts';
import { nextVersion, type AgentPriceStore, type ModelPrice, type PriceVersion } from '../../sql/stores/agent-prices.ts';
import type { DocumentStore, StoredDocument } from '../../sql/stores/documents.ts';
import type { IncidentDetail, IncidentFilter, IncidentStore, IncidentSummary } from '../../sql/stores/incidents.ts';
import type { NewPromptVersion, PromptStore, PromptVersion } from '../../sql/stores/prompts.ts';
import type { Experiment } from '../../tenant-config/experiments.ts';
import type { Rule } from '../../tenant-config/alert-rules.ts';
import type { Job } from '../../tenant-config/jobs.ts';
import type { AssistantSession, AssistantStore, NewMessage, StoredMessage } from '../../sql/stores/assistant.ts';
import type { ExternalSubjectState, ExtractionRow, JobResultStore, JobRunRow, RunCounts } from '../../sql/stores/job-results.ts';
import type { NotificationTarget } from '../../tenant-config/notification-targets.ts';
import type { AuditEntry, ProposalFilter, ProposalStore } from '../../sql/stores/proposals.ts';
import type { AuditEvent, ProposalRecord } from '../../schemas/topics.ts';
import type { Action } from '../../tenant-config/actions.ts';
import type { Policy, RemediationSettings } from '../../tenant-config/remediation-policies.ts';

/**
 * In-memory stand-ins for the ClickHouse stores (sql/stores/), so the CRUD
 * routes can be tested with `app.request()` and no database. Each keeps what
 * its real store promises the routes and nothing more: every read names the
 * tenant (one tenant's id is another's "not found"), a deleted document is
 * gone, prompt versions count from 1 per tenant and name, lists come in the
 * real store's order. SQL itself is tested against ClickHouse elsewhere
 * (test/api.test.ts, sql/stores/*.test.ts).
 */

/** A class's public members: what a route can call. The real stores' private ClickHouse client is not part of it. */
type PublicOf<C> = { [K in keyof C]: C[K] };

/** The one cast: the real classes' private fields make their types nominal; the compiler has checked the public shape. */
const asStore = <C>(stub: PublicOf<C>): C => stub as C;

export class MemoryDocumentStore<T> implements PublicOf<DocumentStore<T>> {
  /** Latest version of each document by tenant and id, deleted ones flagged, as `FINAL` reads the table. */
  private readonly docs = new Map<string, StoredDocument<T> & { deleted: boolean }>();

  async list(tenant: string): Promise<StoredDocument<T>[]> {
    return this.live().filter((d) => d.tenant === tenant);
  }

  async get(tenant: string, id: string): Promise<StoredDocument<T> | undefined> {
    const doc = this.docs.get(keyOf(tenant, id));
    return doc && !doc.deleted ? withoutDeleted(doc) : undefined;
  }

  async all(opts: { deletedWithinMs?: number } = {}): Promise<StoredDocument<T>[]> {
    if (opts.deletedWithinMs === undefined) return this.live();
    const since = Date.now() - opts.deletedWithinMs;
    return sorted([...this.docs.values()].filter((d) => !d.deleted || d.updated_at >= since)).map((d) => structuredClone(d));
  }

  async create(tenant: string, definition: T, extra: { status?: string } = {}): Promise<StoredDocument<T>> {
    const now = Date.now();
    return this.write({ id: randomUUID(), tenant, created_at: now, updated_at: now, definition, ...extra }, false);
  }

  async replace(existing: StoredDocument<T>, definition: T, extra: { status?: string } = {}): Promise<StoredDocument<T>> {
    return this.write({ ...existing, ...extra, definition, updated_at: Math.max(Date.now(), existing.updated_at + 1) }, false);
  }

  async delete(existing: StoredDocument<T>): Promise<void> {
    this.write({ ...existing, updated_at: Math.max(Date.now(), existing.updated_at + 1) }, true);
  }

  private write(doc: StoredDocument<T>, deleted: boolean): StoredDocument<T> {
    // Stored as a copy, as a row in a table is: what a route does with the object later changes nothing here.
    this.docs.set(keyOf(doc.tenant, doc.id), { ...structuredClone(doc), deleted });
    return doc;
  }

  private live(): StoredDocument<T>[] {
    return sorted([...this.docs.values()].filter((d) => !d.deleted)).map(withoutDeleted);
  }
}

export class MemoryPromptStore implements PublicOf<PromptStore> {
  private readonly rows: PromptVersion[] = [];
  private readonly tagRows = new Map<string, { tenant: string; name: string; tag: string; version: number; deleted: boolean }>();

  async create(tenant: string, name: string, input: NewPromptVersion): Promise<PromptVersion> {
    // Numbered with no await in between, so two creations at once cannot take one number (the real store queues them).
    const version: PromptVersion = { tenant, name, version: this.latest(tenant, name) + 1, ...structuredClone(input), created_at: Date.now() };
    this.rows.push(version);
    return structuredClone(version);
  }

  async latestVersion(tenant: string, name: string): Promise<number> {
    return this.latest(tenant, name);
  }

  async version(tenant: string, name: string, version: number): Promise<PromptVersion | undefined> {
    return this.of(tenant, name).find((v) => v.version === version);
  }

  async versions(tenant: string, name: string): Promise<PromptVersion[]> {
    return this.of(tenant, name).sort((a, b) => a.version - b.version);
  }

  async list(tenant: string): Promise<{ name: string; latest_version: number; tags: Record<string, number> }[]> {
    const names = [...new Set(this.rows.filter((r) => r.tenant === tenant).map((r) => r.name))].sort();
    return Promise.all(names.map(async (name) => ({ name, latest_version: await this.latestVersion(tenant, name), tags: await this.tags(tenant, name) })));
  }

  async tags(tenant: string, name: string): Promise<Record<string, number>> {
    const live = [...this.tagRows.values()].filter((t) => t.tenant === tenant && t.name === name && !t.deleted);
    return Object.fromEntries(live.sort((a, b) => a.tag.localeCompare(b.tag)).map((t) => [t.tag, t.version]));
  }

  async setTag(tenant: string, name: string, tag: string, version: number, deleted = false): Promise<void> {
    this.tagRows.set(keyOf(tenant, name, tag), { tenant, name, tag, version, deleted });
  }

  async tagged(tenant: string, name: string, tag: string): Promise<PromptVersion | undefined> {
    const version = (await this.tags(tenant, name))[tag];
    return version === undefined ? undefined : this.version(tenant, name, version);
  }

  private latest(tenant: string, name: string): number {
    return Math.max(0, ...this.of(tenant, name).map((v) => v.version));
  }

  private of(tenant: string, name: string): PromptVersion[] {
    return this.rows.filter((r) => r.tenant === tenant && r.name === name).map((r) => structuredClone(r));
  }
}

/** An incident as a test seeds it: the summary, optionally its signals and analysis. */
export type SeededIncident = IncidentSummary & Partial<Pick<IncidentDetail, 'signals' | 'analysis'>>;

export class MemoryIncidentStore implements PublicOf<IncidentStore> {
  private readonly incidents: (SeededIncident & { tenant: string })[] = [];
  private readonly feedback: { tenant: string; incident_id: string; feedback_id: string; helpful: boolean; comment?: string; created_at: number }[] = [];
  private readonly assignments: { tenant: string; incident_id: string; experiment_id: string; variant: string }[] = [];

  /** What the correlate processor would have written. */
  seed(tenant: string, incident: SeededIncident): void {
    this.incidents.push({ ...structuredClone(incident), tenant });
  }

  /** An analysis by an experiment's variant, as the analyst would have written it. */
  seedAssignment(tenant: string, incident_id: string, experiment_id: string, variant: string): void {
    this.assignments.push({ tenant, incident_id, experiment_id, variant });
  }

  /** Feedback kept for a tenant's incident (what addFeedback wrote). */
  feedbackOf(tenant: string, incident_id: string) {
    return this.feedback.filter((f) => f.tenant === tenant && f.incident_id === incident_id);
  }

  async list(tenant: string, f: IncidentFilter): Promise<IncidentSummary[]> {
    const before = (i: IncidentSummary, after: NonNullable<IncidentFilter['after']>) =>
      i.opened_at < after.opened_at || (i.opened_at === after.opened_at && i.incident_id < after.incident_id);
    return this.incidents
      .filter((i) => i.tenant === tenant)
      .filter((i) => (f.service === undefined || i.service === f.service) && (f.status === undefined || i.status === f.status))
      .filter((i) => (f.since === undefined || i.updated_at >= f.since) && (f.after === undefined || before(i, f.after)))
      .sort((a, b) => b.opened_at - a.opened_at || (a.incident_id < b.incident_id ? 1 : a.incident_id > b.incident_id ? -1 : 0))
      .slice(0, f.limit)
      .map(({ tenant: _, signals: __, analysis: ___, ...summary }) => structuredClone(summary));
  }

  async get(tenant: string, incidentId: string): Promise<IncidentDetail | undefined> {
    const found = this.incidents.find((i) => i.tenant === tenant && i.incident_id === incidentId);
    if (!found) return undefined;
    const { tenant: _, ...incident } = structuredClone(found);
    const feedback = this.feedbackOf(tenant, incidentId);
    return {
      ...incident,
      signals: incident.signals ?? [],
      analysis: incident.analysis ?? null,
      feedback: { count: feedback.length, helpful: feedback.filter((x) => x.helpful).length },
    };
  }

  async exists(tenant: string, incidentId: string): Promise<boolean> {
    return this.incidents.some((i) => i.tenant === tenant && i.incident_id === incidentId);
  }

  async addFeedback(tenant: string, incidentId: string, input: { helpful: boolean; comment?: string }): Promise<{ feedback_id: string; created_at: number }> {
    const row = { tenant, incident_id: incidentId, feedback_id: randomUUID(), ...input, created_at: Date.now() };
    this.feedback.push(row);
    return { feedback_id: row.feedback_id, created_at: row.created_at };
  }

  async experimentCounts(tenant: string, experimentId: string): Promise<{ variant: string; incidents: number; feedback: number; helpful: number }[]> {
    const arms = new Map<string, string>(); // incident → variant: the first analysis decides, as any(variant) does
    for (const a of this.assignments)
      if (a.tenant === tenant && a.experiment_id === experimentId && !arms.has(a.incident_id)) arms.set(a.incident_id, a.variant);
    const counts = new Map<string, { variant: string; incidents: number; feedback: number; helpful: number }>();
    for (const [incident, variant] of arms) {
      const c = counts.get(variant) ?? { variant, incidents: 0, feedback: 0, helpful: 0 };
      const feedback = this.feedbackOf(tenant, incident);
      counts.set(variant, {
        variant,
        incidents: c.incidents + 1,
        feedback: c.feedback + feedback.length,
        helpful: c.helpful + feedback.filter((x) => x.helpful).length,
      });
    }
    return [...counts.values()];
  }
}

/** Price table versions per tenant, numbered from 1, each holding the whole set of the tenant's own prices. */
export class MemoryAgentPriceStore implements PublicOf<AgentPriceStore> {
  private readonly byTenant = new Map<string, PriceVersion[]>();

  async latest(tenant: string): Promise<PriceVersion> {
    return structuredClone(this.byTenant.get(tenant)?.at(-1) ?? { version: 0, overrides: {}, change: null, created_at: 0 });
  }

  async version(tenant: string, version: number): Promise<PriceVersion | undefined> {
    if (version === 0) return { version: 0, overrides: {}, change: null, created_at: 0 };
    return structuredClone(this.byTenant.get(tenant)?.find((v) => v.version === version));
  }

  async versions(tenant: string): Promise<PriceVersion[]> {
    return structuredClone(this.byTenant.get(tenant) ?? []);
  }

  async all(): Promise<Map<string, PriceVersion[]>> {
    return structuredClone(this.byTenant);
  }

  async change(tenant: string, model: string, price: ModelPrice | undefined): Promise<PriceVersion | undefined> {
    const next = nextVersion(await this.latest(tenant), model, price);
    if (!next) return undefined;
    this.byTenant.set(tenant, [...(this.byTenant.get(tenant) ?? []), next]);
    return structuredClone(next);
  }
}

/** The five stores in memory, each also returned as itself so a test can seed or inspect it. */
/** What jobs produced, as rows a test adds (the scheduler and the sink write them for real). Newest first, per tenant. */
export class MemoryJobResultStore implements PublicOf<JobResultStore> {
  readonly runRows: (JobRunRow & { tenant: string })[] = [];
  readonly extractionRows: (ExtractionRow & { tenant: string })[] = [];
  readonly subjects: (ExternalSubjectState & { tenant: string })[] = [];

  async runs(tenant: string, jobId: string, o: { limit: number; outcome?: string; before?: number }): Promise<JobRunRow[]> {
    return this.runRows
      .filter(
        (r) => r.tenant === tenant && r.job_id === jobId && (!o.outcome || r.outcome === o.outcome) && (o.before === undefined || r.started_at < o.before),
      )
      .sort((a, b) => b.started_at - a.started_at)
      .slice(0, o.limit)
      .map(({ tenant: _, ...r }) => structuredClone(r));
  }

  async counts(tenant: string, jobIds?: string[]): Promise<Map<string, RunCounts>> {
    const out = new Map<string, RunCounts>();
    for (const r of [...this.runRows].sort((a, b) => a.started_at - b.started_at)) {
      if (r.tenant !== tenant || (jobIds && !jobIds.includes(r.job_id))) continue;
      const c = out.get(r.job_id) ?? { total: 0, success: 0, failure: 0, timeout: 0, skipped: 0, last_run_at: null, last_outcome: null };
      c.total++;
      c[r.outcome as 'success' | 'failure' | 'timeout' | 'skipped']++;
      c.last_run_at = r.started_at;
      c.last_outcome = r.outcome;
      out.set(r.job_id, c);
    }
    return out;
  }

  async extractions(tenant: string, o: { limit: number; jobId?: string; status?: string; before?: number }): Promise<ExtractionRow[]> {
    return this.extractionRows
      .filter(
        (r) => r.tenant === tenant && (!o.jobId || r.job_id === o.jobId) && (!o.status || r.status === o.status) && (o.before === undefined || r.at < o.before),
      )
      .sort((a, b) => b.at - a.at)
      .slice(0, o.limit)
      .map(({ tenant: _, ...r }) => structuredClone(r));
  }

  async externalStatus(tenant: string, provider?: string): Promise<ExternalSubjectState[]> {
    return this.subjects.filter((s) => s.tenant === tenant && (!provider || s.provider === provider)).map(({ tenant: _, ...s }) => structuredClone(s));
  }
}

/** Sessions and their turns in memory, numbered per session, deleted sessions gone. */
export class MemoryAssistantStore implements PublicOf<AssistantStore> {
  private readonly sessions = new Map<string, AssistantSession & { tenant: string; deleted: boolean }>();
  private readonly turns = new Map<string, StoredMessage[]>();

  async createSession(tenant: string, title: string): Promise<AssistantSession> {
    const now = Date.now();
    const session = { session_id: randomUUID(), title, created_at: now, updated_at: now };
    this.sessions.set(keyOf(tenant, session.session_id), { ...session, tenant, deleted: false });
    return session;
  }

  async session(tenant: string, sessionId: string): Promise<AssistantSession | undefined> {
    const s = this.sessions.get(keyOf(tenant, sessionId));
    if (!s || s.deleted) return undefined;
    const { tenant: _, deleted: __, ...session } = s;
    return session;
  }

  async deleteSession(tenant: string, session: AssistantSession): Promise<void> {
    const s = this.sessions.get(keyOf(tenant, session.session_id));
    if (s) s.deleted = true;
  }

  async messageCount(tenant: string, sessionId: string): Promise<number> {
    return (this.turns.get(keyOf(tenant, sessionId)) ?? []).length;
  }

  async messages(tenant: string, sessionId: string, opts: { last?: number } = {}): Promise<StoredMessage[]> {
    const all = this.turns.get(keyOf(tenant, sessionId)) ?? [];
    return structuredClone(all.slice(-(opts.last ?? all.length) || all.length));
  }

  async appendTurn(tenant: string, session: AssistantSession, turn: NewMessage[]): Promise<StoredMessage[]> {
    const list = this.turns.get(keyOf(tenant, session.session_id)) ?? [];
    const stored = turn.map((m, i) => ({ ...structuredClone(m), message_id: randomUUID(), seq: list.length + i + 1, created_at: Date.now() }));
    this.turns.set(keyOf(tenant, session.session_id), [...list, ...stored]);
    return structuredClone(stored);
  }
}

/**
 * Proposals and the audit as the sink would have written them: every
 * version kept, the highest per proposal read (`proposals FINAL`), an
 * event id once. Tests feed it what the stub publisher received (`sink`).
 */
export class MemoryProposalStore implements PublicOf<ProposalStore> {
  private readonly versions: ProposalRecord[] = [];
  private readonly events = new Map<string, AuditEvent>();

  /** Records as they arrived on the topics. */
  sink(o: { proposals?: ProposalRecord[]; audit?: AuditEvent[] }): void {
    this.versions.push(...structuredClone(o.proposals ?? []));
    for (const e of o.audit ?? []) this.events.set(keyOf(e.tenant, e.event_id), structuredClone(e));
  }

  async list(tenant: string, f: ProposalFilter): Promise<ProposalRecord[]> {
    return this.latest()
      .filter((p) => p.tenant === tenant && (f.status === undefined || p.status === f.status) && (f.service === undefined || p.service === f.service))
      .filter((p) => (f.incident_id === undefined || p.incident_id === f.incident_id) && (f.before === undefined || p.created_at < f.before))
      .sort((a, b) => b.created_at - a.created_at || (a.proposal_id < b.proposal_id ? 1 : a.proposal_id > b.proposal_id ? -1 : 0))
      .slice(0, f.limit);
  }

  async get(tenant: string, id: string): Promise<ProposalRecord | undefined> {
    return this.latest().find((p) => p.tenant === tenant && p.proposal_id === id);
  }

  async audit(tenant: string, f: { since?: number; subject_id?: string; limit: number }): Promise<AuditEntry[]> {
    return [...this.events.values()]
      .filter((e) => e.tenant === tenant && (f.since === undefined || e.at >= f.since) && (f.subject_id === undefined || e.subject_id === f.subject_id))
      .sort((a, b) => b.at - a.at || (a.event_id < b.event_id ? 1 : a.event_id > b.event_id ? -1 : 0))
      .slice(0, f.limit)
      .map(({ tenant: _, details, ...e }) => ({ ...structuredClone(e), details: JSON.parse(details) as unknown }));
  }

  private latest(): ProposalRecord[] {
    const byId = new Map<string, ProposalRecord>();
    for (const p of this.versions) {
      const k = keyOf(p.tenant, p.proposal_id);
      if ((byId.get(k)?.version ?? 0) < p.version) byId.set(k, p);
    }
    return [...byId.values()].map((p) => structuredClone(p));
  }
}

export function memoryStores() {
  const memory = {
    incidents: new MemoryIncidentStore(),
    prompts: new MemoryPromptStore(),
    rules: new MemoryDocumentStore<Rule>(),
    targets: new MemoryDocumentStore<NotificationTarget>(),
    experiments: new MemoryDocumentStore<Experiment>(),
    agentPrices: new MemoryAgentPriceStore(),
    jobs: new MemoryDocumentStore<Job>(),
    jobResults: new MemoryJobResultStore(),
    assistant: new MemoryAssistantStore(),
    actions: new MemoryDocumentStore<Action>(),
    policies: new MemoryDocumentStore<Policy>(),
    remediationSettings: new MemoryDocumentStore<RemediationSettings>(),
    proposals: new MemoryProposalStore(),
  };
  const stores: GatewayStores = {
    incidents: asStore<IncidentStore>(memory.incidents),
    prompts: asStore<PromptStore>(memory.prompts),
    rules: asStore<DocumentStore<Rule>>(memory.rules),
    targets: asStore<DocumentStore<NotificationTarget>>(memory.targets),
    experiments: asStore<DocumentStore<Experiment>>(memory.experiments),
    agentPrices: asStore<AgentPriceStore>(memory.agentPrices),
    jobs: asStore<DocumentStore<Job>>(memory.jobs),
    jobResults: asStore<JobResultStore>(memory.jobResults),
    assistant: asStore<AssistantStore>(memory.assistant),
    actions: asStore<DocumentStore<Action>>(memory.actions),
    policies: asStore<DocumentStore<Policy>>(memory.policies),
    remediationSettings: asStore<DocumentStore<RemediationSettings>>(memory.remediationSettings),
    proposals: asStore<ProposalStore>(memory.proposals),
  };
  return { stores, memory };
}

const keyOf = (...parts: string[]) => parts.join('\u0000');
const sorted = <D extends StoredDocument<unknown>>(docs: D[]) => docs.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const withoutDeleted = <T>({ deleted: _, ...doc }: StoredDocument<T> & { deleted: boolean }): StoredDocument<T> => structuredClone(doc);
