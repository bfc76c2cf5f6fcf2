import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, unavailable } from '../../lib/errors.ts';
import type { Proposals } from '../../platform/proposals.ts';
import type { ProposalRecord } from '../../schemas/topics.ts';
import type { ProposalFilter, StoredProposal } from '../../sql/stores/proposals.ts';
import { parseWith, readBody } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { REMEDIATION_SETTINGS_ID } from '../../tenant-config/remediation-policies.ts';
import { requireStores, type GatewayStores } from '../stores.ts';

/**
 * Remediation proposals and their audit: list and read (ClickHouse, with
 * the live state from Redis where it is newer: the history lags the
 * decision by the sink's moment), approve or reject one (Redis decides, so
 * two approvers or an approval racing the expiry cannot both win), and the
 * audit of everything that happened. A proposal is decided only while it
 * is `proposed`; a suggestion is never approved, as it is never run.
 */
const STATUSES = ['proposed', 'approved', 'rejected', 'expired', 'executing', 'succeeded', 'failed', 'blocked', 'effective', 'ineffective'] as const;
const epochOrIso = z.union([z.coerce.number().int().positive(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

const listQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  service: z.string().min(1).max(256).optional(),
  incident_id: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

const auditQuery = z.strictObject({
  since: epochOrIso.optional(),
  subject_id: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const decisionBody = z.strictObject({
  /** Who decides; must be one of the tenant's approvers when it names any. */
  approver: z.string().min(1).max(200).optional(),
  comment: z.string().max(4000).optional(),
});

export type Decision = 'approved' | 'rejected';

export function proposalRoutes(deps: Pick<GatewayDeps, 'stores' | 'proposals'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.get('/v1/proposals', async (c) => {
    const q = parseWith(listQuery, c.req.query(), 'query');
    return c.json({ items: await listProposals(requireStores(deps.stores), deps.proposals, c.get('tenant'), q) });
  });

  app.get('/v1/proposals/:id', async (c) => {
    const tenant = c.get('tenant');
    const id = c.req.param('id');
    const proposal = await currentProposal(requireStores(deps.stores), deps.proposals, tenant, id);
    if (!proposal) throw new AutopilotError('not_found', `no proposal ${id}`);
    return c.json(proposal);
  });

  for (const [verb, decision] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    app.post(`/v1/proposals/:id/${verb}`, async (c) => {
      const tenant = c.get('tenant');
      const body = await readBody(c.req.raw, decisionBody, 'decision');
      const stores = requireStores(deps.stores);
      const proposals = requireProposals(deps.proposals);
      if (!(await mayDecide(stores, tenant, body.approver))) {
        throw new AutopilotError(
          'forbidden',
          body.approver === undefined
            ? 'this tenant names its approvers: say who decides (approver)'
            : `${body.approver} is not one of this tenant's approvers`,
        );
      }
      const decided = await decide(stores, proposals, tenant, c.req.param('id'), decision, `api:${body.approver ?? 'api'}`, body.comment);
      return c.json(decided);
    });
  }

  app.get('/v1/audit', async (c) => {
    const q = parseWith(auditQuery, c.req.query(), 'query');
    return c.json({ items: await requireStores(deps.stores).proposals.audit(c.get('tenant'), q) });
  });

  return app;
}

/** Proposals state lives in Redis; without it nothing can be decided or audited. */
export function requireProposals(proposals: Proposals | undefined): Proposals {
  if (!proposals) throw unavailable('remediation keeps its proposals in Redis, which this gateway is not connected to', undefined, 30);
  return proposals;
}

/** Whether `approver` may decide for the tenant: anyone when its settings name no approvers. */
export async function mayDecide(stores: GatewayStores, tenant: string, approver: string | undefined): Promise<boolean> {
  const approvers = (await stores.remediationSettings.get(tenant, REMEDIATION_SETTINGS_ID))?.definition.approvers ?? [];
  return approvers.length === 0 || (approver !== undefined && approvers.includes(approver));
}

/**
 * proposed → approved | rejected, by `actor` (api:<approver>, slack:<user>),
 * or a 404 / 409 that says why not; the winner's new version is published
 * with its audit event by Proposals before this returns.
 */
export async function decide(
  stores: GatewayStores,
  proposals: Proposals,
  tenant: string,
  id: string,
  decision: Decision,
  actor: string,
  comment: string | undefined,
): Promise<ProposalRecord> {
  const current = await proposals.get(tenant, id);
  if (!current) {
    // Redis forgets a proposal 30 days after its last change; its history says what became of it.
    const recorded = await stores.proposals.get(tenant, id);
    if (!recorded) throw new AutopilotError('not_found', `no proposal ${id}`);
    throw notPending(recorded);
  }
  if (decision === 'approved' && current.mode === 'suggest') {
    throw new AutopilotError(
      'conflict',
      `proposal ${id} is a suggestion (its policy's mode is suggest): suggestions are not run, so there is nothing to approve`,
      {
        details: { status: current.status, mode: current.mode },
      },
    );
  }
  const now = Date.now();
  const result = await proposals.transition(tenant, id, decision, {
    actor,
    from: ['proposed'],
    now,
    patch: { decided_by: actor, decided_at: now, comment: comment ?? null },
  });
  if (result.ok) return result.proposal;
  if (!result.current) throw new AutopilotError('not_found', `no proposal ${id}`);
  throw notPending(result.current);
}

function notPending(p: StoredProposal): AutopilotError {
  const by = p.decided_by ? ` by ${p.decided_by}` : '';
  return new AutopilotError('conflict', `proposal ${p.proposal_id} is no longer waiting for a decision: it is ${p.status}${by}`, {
    details: { status: p.status, decided_by: p.decided_by },
  });
}

/** A proposal as ClickHouse recorded it, or Redis's version when newer (or when the sink has not written it yet). */
export async function currentProposal(
  stores: GatewayStores,
  proposals: Proposals | undefined,
  tenant: string,
  id: string,
): Promise<StoredProposal | undefined> {
  const [recorded, live] = await Promise.all([stores.proposals.get(tenant, id), proposals?.get(tenant, id)]);
  return newest(recorded, live);
}

/** The list from ClickHouse, each item overlaid with Redis's newer version; one that no longer fits a status filter is left out. */
export async function listProposals(stores: GatewayStores, proposals: Proposals | undefined, tenant: string, f: ProposalFilter): Promise<StoredProposal[]> {
  const recorded = await stores.proposals.list(tenant, f);
  if (!proposals) return recorded;
  const live = await Promise.all(recorded.map((p) => proposals.get(tenant, p.proposal_id)));
  return recorded.map((p, i) => newest(p, live[i])!).filter((p) => f.status === undefined || p.status === f.status);
}

function newest(recorded: StoredProposal | undefined, live: ProposalRecord | undefined): StoredProposal | undefined {
  if (!recorded) return live;
  return live && live.version > recorded.version ? live : recorded;
}
