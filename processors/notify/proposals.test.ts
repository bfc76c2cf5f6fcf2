import { describe, expect, it } from 'vitest';
import type { ProposalRecord, ProposalStatus } from '../../schemas/topics.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import type { NotificationTarget } from '../../tenant-config/notification-targets.ts';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID, slackProposalMessage, type SlackProposalMessage } from './proposal-slack.ts';
import { proposalPayload } from './proposal-webhook.ts';
import { proposalNews, proposalTargets, requestCall } from './proposals.ts';
import { proposalAt, sampleExecution, sampleProposal } from './sample-proposal.ts';
import { SLACK_LIMITS, type SlackBlock } from './slack.ts';

const INCIDENT_URL = 'https://autopilot.example.com/v1/incidents/inc-42';
const blocksOf = <T extends SlackBlock['type']>(m: SlackProposalMessage, type: T) =>
  m.blocks.filter((b) => b.type === type) as Extract<SlackBlock, { type: T }>[];
const allText = (m: SlackProposalMessage) => JSON.stringify(m);
/** The texts Slack reads as mrkdwn (mentions, links): the fallback, sections, fields, context; plain_text (header, buttons) is shown as typed. */
const mrkdwnTexts = (m: SlackProposalMessage) => [
  m.text,
  ...m.blocks.flatMap((b) =>
    b.type === 'section'
      ? [...('text' in b ? [b.text.text] : []), ...(b.fields ?? []).map((f) => f.text)]
      : b.type === 'context'
        ? b.elements.map((e) => e.text)
        : [],
  ),
];
/** Strings of the sample execution that must never reach a message: the request's body and query, and the response. */
const SECRETS = ['SECRET-BODY', 'ghp_leak', 'access_token', 'RESPONSE-EXCERPT', 'inputs'];

describe('which versions notify', () => {
  const STATUSES: ProposalStatus[] = ['proposed', 'approved', 'rejected', 'expired', 'executing', 'succeeded', 'failed', 'blocked', 'effective', 'ineffective'];
  it('asks for a decision, shows a suggestion, says nothing of an auto proposal until its outcome', () => {
    const table = Object.fromEntries(
      (['approve', 'suggest', 'auto'] as const).map((mode) => [mode, STATUSES.map((status) => `${status}:${proposalNews({ status, mode }) ?? '-'}`)]),
    );
    expect(table.approve).toEqual([
      'proposed:decision',
      'approved:-',
      'rejected:outcome',
      'expired:outcome',
      'executing:-',
      'succeeded:outcome',
      'failed:outcome',
      'blocked:outcome',
      'effective:outcome',
      'ineffective:outcome',
    ]);
    expect(table.suggest!.slice(0, 4)).toEqual(['proposed:suggestion', 'approved:-', 'rejected:outcome', 'expired:-']);
    expect(table.auto!.slice(0, 2)).toEqual(['proposed:-', 'approved:-']);
    expect(table.auto!.slice(5)).toEqual(['succeeded:outcome', 'failed:outcome', 'blocked:outcome', 'effective:outcome', 'ineffective:outcome']);
  });
});

describe('where proposals go', () => {
  const target = (id: string, kind: 'slack' | 'webhook', more: Partial<NotificationTarget> = {}): StoredDocument<NotificationTarget> => ({
    id,
    tenant: 'acme',
    created_at: 0,
    updated_at: 0,
    definition: { name: id, kind, url: `https://example.com/${id}`, enabled: true, ...more } as NotificationTarget,
  });
  const targets = [
    target('ops-slack', 'slack', { min_severity: 'critical' }),
    target('pager', 'webhook', { min_severity: 'high' }),
    target('quiet', 'slack', { enabled: false }),
    target('all', 'webhook'),
  ];
  const ids = (ts: StoredDocument<NotificationTarget>[]) => ts.map((t) => t.id);

  it('goes to the Slack target the settings name, alone, whatever its severity filter', () => {
    expect(ids(proposalTargets(targets, { slack_target_id: 'ops-slack' }, 'medium'))).toEqual(['ops-slack']);
  });

  it('goes to every enabled target, filtered by the incident severity, without a named one (or when it is disabled or gone)', () => {
    expect(ids(proposalTargets(targets, undefined, 'critical'))).toEqual(['ops-slack', 'pager', 'all']);
    expect(ids(proposalTargets(targets, {}, 'high'))).toEqual(['pager', 'all']);
    expect(ids(proposalTargets(targets, { slack_target_id: 'quiet' }, 'medium'))).toEqual(['all']);
    expect(ids(proposalTargets(targets, { slack_target_id: 'deleted' }, 'high'))).toEqual(['pager', 'all']);
    // No severity on the proposal (an alert's, say): no filter to apply.
    expect(ids(proposalTargets(targets, undefined, undefined))).toEqual(['ops-slack', 'pager', 'all']);
  });
});

describe('requestCall', () => {
  it('reads the method and URL of a request line or a JSON request, and drops credentials, query and fragment', () => {
    expect(requestCall(sampleExecution().request)).toEqual({
      method: 'POST',
      url: 'https://api.github.com/repos/acme/checkout/actions/workflows/rollback.yml/dispatches',
    });
    expect(requestCall('PATCH https://user:pw@k8s.example:6443/apis/apps/v1/namespaces/prod/deployments/web HTTP/1.1\nbody')).toEqual({
      method: 'PATCH',
      url: 'https://k8s.example:6443/apis/apps/v1/namespaces/prod/deployments/web',
    });
    expect(requestCall(JSON.stringify({ method: 'post', url: 'http://docker:2375/containers/web/restart?t=10#x', body: 'SECRET' }))).toEqual({
      method: 'POST',
      url: 'http://docker:2375/containers/web/restart',
    });
  });

  it('gives nothing it cannot read', () => {
    for (const text of ['', 'redacted', '{"method": 1}', '{not json', 'POST file:///etc/passwd', 'POST not-a-url', '{"method":"POST","url":"ftp://x/"}']) {
      expect(requestCall(text), text).toBeNull();
    }
  });
});

describe('Slack: a proposal waiting for approval', () => {
  const m = slackProposalMessage(sampleProposal(), INCIDENT_URL)!;

  it('has Approve (primary, confirmed) and Reject (danger) buttons, each carrying the proposal id', () => {
    const [actions, ...more] = blocksOf(m, 'actions');
    expect(more).toEqual([]);
    expect(actions!.elements).toEqual([
      {
        type: 'button',
        action_id: 'approve_proposal',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'pr-7f3a',
        style: 'primary',
        confirm: {
          title: { type: 'plain_text', text: 'Approve this action?' },
          text: { type: 'plain_text', text: 'Run Roll back checkout on checkout (risk high). It runs once, as soon as it is approved.' },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
          style: 'primary',
        },
      },
      { type: 'button', action_id: 'reject_proposal', text: { type: 'plain_text', text: 'Reject' }, value: 'pr-7f3a', style: 'danger' },
    ]);
    expect([APPROVE_ACTION_ID, REJECT_ACTION_ID]).toEqual(['approve_proposal', 'reject_proposal']);
    // Interactive buttons, not links: Slack sends their clicks to the app.
    expect(actions!.elements.every((b) => b.url === undefined)).toBe(true);
  });

  it('names the incident, service, action, risk, variables and expiry, at the top level of the message', () => {
    expect(m).not.toHaveProperty('attachments');
    expect((blocksOf(m, 'header')[0]!.text as { text: string }).text).toBe(':raised_hand: Approval needed: Roll back checkout on checkout');
    const fields = blocksOf(m, 'section').flatMap((b) => ('fields' in b && b.fields ? b.fields.map((f) => f.text) : []));
    expect(fields).toEqual([
      '*Service*\ncheckout',
      '*Action*\nRoll back checkout (github_workflow)',
      '*Risk*\n:warning: high',
      `*Incident*\n<${INCIDENT_URL}|inc-42>`,
      `*Expires*\n<!date^${Date.parse('2024-05-01T12:34:00Z') / 1000}^{date_short_pretty} {time_secs}|2024-05-01T12:34:00Z>`,
      '*Policy*\nroll back a bad deploy',
    ]);
    const variables = blocksOf(m, 'section').find((b) => 'text' in b && b.text.text.startsWith('*Variables*'));
    expect(variables && 'text' in variables ? variables.text.text.split('\n').slice(0, 3) : []).toEqual([
      '*Variables*',
      '• *suspect_version*: v2.3.1',
      '• *previous_version*: v2.3.0',
    ]);
    expect(m.text).toMatch(/^Approval needed: Roll back checkout on checkout \(risk high\), expires <!date\^1714566840\^/);
    expect(blocksOf(m, 'context')[0]!.elements[0]!.text).toBe('Proposal pr-7f3a · v1 · approve');
  });

  it('says so when it is a dry run', () => {
    const dry = slackProposalMessage(sampleProposal({ dry_run: true }), INCIDENT_URL)!;
    expect(allText(dry)).toContain('as a dry run (nothing will be called)');
    expect(blocksOf(dry, 'actions')[0]!.elements[0]!.confirm!.text.text).toMatch(/^Dry run of Roll back checkout/);
  });

  it('escapes mrkdwn from variables and names, and stays within Slack limits however long they are', () => {
    const long = 'z'.repeat(5000);
    const huge = slackProposalMessage(
      sampleProposal({
        action_name: `<!channel> ${long}`,
        service: long,
        policy_name: long,
        variables: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`v${i}`, `<https://evil.example|x> ${long}`])),
      }),
      INCIDENT_URL,
    )!;
    for (const text of mrkdwnTexts(huge)) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://evil.example');
    }
    expect(mrkdwnTexts(huge).join('\n')).toContain('&lt;!channel&gt;');
    expect(huge.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    for (const b of huge.blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.header);
      if (b.type === 'section' && 'text' in b) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
      if (b.type === 'section') for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      if (b.type === 'actions') {
        for (const e of b.elements) {
          expect(e.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
          if (e.confirm) expect(e.confirm.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmText);
        }
      }
    }
    expect(allText(huge)).toMatch(/…and \d+ more/);
  });

  it('names the trigger when there is no incident, and shows a link only for an http(s) URL', () => {
    const fromAlert = slackProposalMessage(sampleProposal({ incident_id: null, trigger: 'alert', subject_id: 'fp1:firing:1' }), null)!;
    expect(allText(fromAlert)).toContain('*Incident*\\nnone (alert fp1:firing:1)');
    expect(allText(slackProposalMessage(sampleProposal(), 'javascript:alert(1)')!)).toContain('*Incident*\\ninc-42"');
  });
});

describe('Slack: a suggestion, and what nobody is told', () => {
  it('shows a suggestion without buttons', () => {
    const m = slackProposalMessage(sampleProposal({ mode: 'suggest' }), INCIDENT_URL)!;
    expect(blocksOf(m, 'actions')).toEqual([]);
    expect(allText(m)).not.toContain('approve_proposal');
    expect((blocksOf(m, 'header')[0]!.text as { text: string }).text).toBe(':bulb: Suggested: Roll back checkout on checkout');
    expect(allText(m)).toContain('v2.3.1');
  });

  it('gives no message for an auto proposal at proposal time, nor for approved or executing', () => {
    expect(slackProposalMessage(sampleProposal({ mode: 'auto', risk: 'low' }), INCIDENT_URL)).toBeNull();
    expect(slackProposalMessage(proposalAt('approved'), INCIDENT_URL)).toBeNull();
    expect(slackProposalMessage(proposalAt('executing'), INCIDENT_URL)).toBeNull();
  });
});

describe('Slack: outcomes', () => {
  const line = (p: ProposalRecord) => slackProposalMessage(p, INCIDENT_URL)!.text;

  it('says what ran and its answer, with the method and URL but nothing else of the request', () => {
    const m = slackProposalMessage(proposalAt('succeeded'), INCIDENT_URL)!;
    expect(m.text).toBe(
      `:white_check_mark: Ran *Roll back checkout* on *checkout*: HTTP 204 in 312 ms. Watching whether incident <${INCIDENT_URL}|inc-42> resolves within 15m.`,
    );
    expect(blocksOf(m, 'context')[0]!.elements.map((e) => e.text)).toEqual([
      'Proposal pr-7f3a · v4 · policy roll back a bad deploy · approve',
      'Called POST https://api.github.com/repos/acme/checkout/actions/workflows/rollback.yml/dispatches',
      `Incident <${INCIDENT_URL}|inc-42>`,
    ]);
    expect(blocksOf(m, 'actions')).toEqual([]);
  });

  it('says why it failed, was blocked, expired or was rejected, and whether it worked', () => {
    expect(line(proposalAt('failed', { execution: sampleExecution({ status_code: 500, error: 'HTTP 500: <b>boom</b>' }) }))).toBe(
      ':x: *Roll back checkout* on *checkout* failed (HTTP 500 in 312 ms): HTTP 500: &lt;b&gt;boom&lt;/b&gt;.',
    );
    expect(line(proposalAt('failed', { execution: sampleExecution({ status_code: null, error: 'timed out after 10000 ms' }) }))).toBe(
      ':x: *Roll back checkout* on *checkout* failed (312 ms): timed out after 10000 ms.',
    );
    expect(line(proposalAt('blocked', { reason: 'rate: 3 executions on checkout in the last hour' }))).toBe(
      ':no_entry: *Roll back checkout* on *checkout* was blocked and did not run: rate: 3 executions on checkout in the last hour.',
    );
    expect(line(proposalAt('effective'))).toBe(
      `:white_check_mark: *Roll back checkout* on *checkout* worked: incident <${INCIDENT_URL}|inc-42> resolved within 15m of the action.`,
    );
    expect(line(proposalAt('ineffective'))).toBe(`:warning: *Roll back checkout* on *checkout* did not resolve incident <${INCIDENT_URL}|inc-42> within 15m.`);
    expect(line(proposalAt('rejected', { comment: 'not during the sale' }))).toBe(
      ':no_entry_sign: The proposal to run *Roll back checkout* on *checkout* was rejected by slack:U0123: “not during the sale”.',
    );
    expect(line(proposalAt('expired'))).toBe(
      ':hourglass: The proposal to run *Roll back checkout* on *checkout* expired after 30m without a decision; it will not run.',
    );
    expect(line(proposalAt('succeeded', { dry_run: true }))).toBe(':test_tube: Dry run of *Roll back checkout* on *checkout* done: nothing was called.');
  });

  it('never carries the request body, its query or the response excerpt', () => {
    for (const status of ['succeeded', 'failed', 'effective', 'ineffective'] as const) {
      const text = allText(slackProposalMessage(proposalAt(status), INCIDENT_URL)!);
      for (const secret of SECRETS) expect(text, `${status}: ${secret}`).not.toContain(secret);
    }
  });
});

describe('webhook payload', () => {
  const o = { publicUrl: 'https://autopilot.example.com', incidentUrl: INCIDENT_URL };

  it('carries the proposal and the API calls that approve or reject it', () => {
    const p = proposalPayload(sampleProposal(), o);
    expect(p).toMatchObject({
      type: 'proposal.proposed',
      id: 'pr-7f3a:1',
      tenant: 'acme',
      service: 'checkout',
      incident_url: INCIDENT_URL,
      approve: { method: 'POST', path: '/v1/proposals/pr-7f3a/approve', url: 'https://autopilot.example.com/v1/proposals/pr-7f3a/approve' },
      reject: { method: 'POST', path: '/v1/proposals/pr-7f3a/reject', url: 'https://autopilot.example.com/v1/proposals/pr-7f3a/reject' },
      proposal: {
        proposal_id: 'pr-7f3a',
        version: 1,
        status: 'proposed',
        mode: 'approve',
        risk: 'high',
        action_name: 'Roll back checkout',
        variables: { suspect_version: 'v2.3.1', previous_version: 'v2.3.0' },
        expires_at: '2024-05-01T12:34:00.000Z',
        execution: null,
      },
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('offers no decision once one is made, or for a suggestion', () => {
    expect(proposalPayload(proposalAt('succeeded'), o)).toMatchObject({ type: 'proposal.succeeded', id: 'pr-7f3a:4', approve: null, reject: null });
    expect(proposalPayload(sampleProposal({ mode: 'suggest' }), o)).toMatchObject({ approve: null, reject: null });
  });

  it('summarises the execution: method, URL, status, duration, error; no body, query or response', () => {
    const p = proposalPayload(proposalAt('succeeded'), o);
    expect(p.proposal.execution).toEqual({
      method: 'POST',
      url: 'https://api.github.com/repos/acme/checkout/actions/workflows/rollback.yml/dispatches',
      status_code: 204,
      duration_ms: 312.4,
      error: null,
      started_at: '2024-05-01T12:06:00.000Z',
      ended_at: '2024-05-01T12:06:00.312Z',
    });
    for (const secret of SECRETS) expect(JSON.stringify(p)).not.toContain(secret);
  });
});
