import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { proposalRecord, testSecretBox } from '../../test/helpers/remediation.ts';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';
import { slackSignature } from '../slack-signature.ts';

/**
 * Slack's Approve / Reject buttons at POST /slack/interactions/{tenant}, no
 * API key: a request signed as Slack signs (v0 HMAC-SHA256 of
 * `v0:<timestamp>:<raw body>` under the tenant's signing secret) decides
 * the proposal as slack:<user>; a bad signature, a stale timestamp, and an
 * exact replay are each a 401 that changes nothing (Redis still says
 * proposed, "Kafka" got nothing more). Before slack-interactions.ts all of
 * these were 404s.
 */
const redis = throwawayRedisPerFile();
const SECRET = '8f14e45fceea167a5a36dedd4bea2543';

async function setUp(settings: Record<string, unknown> = {}) {
  const t = routeTestApp({ redis: redis().client(), secretBox: testSecretBox() });
  expect((await t.a('PUT', '/v1/remediation-settings', { slack_signing_secret: SECRET, ...settings })).status).toBe(200);
  const p = proposalRecord(TEST_TENANTS.a);
  await t.proposals!.propose(p, 'policy:pol-1');
  const published = t.publisher.published.length;
  return {
    ...t,
    p,
    live: async () => (await t.proposals!.get(TEST_TENANTS.a, p.proposal_id))!,
    /** Nothing was decided: still proposed, nothing more reached Kafka. */
    unchanged: async () => {
      expect((await t.proposals!.get(TEST_TENANTS.a, p.proposal_id))!.status).toBe('proposed');
      expect(t.publisher.published).toHaveLength(published);
    },
  };
}

/** A button press as Slack sends it: form-encoded payload, signed with `secret` at `at` (epoch s). */
function interaction(o: { proposal: string; action?: string; user?: string; secret?: string; at?: number; tamper?: (body: string) => string }) {
  const payload = {
    type: 'block_actions',
    user: { id: o.user ?? 'U0ALICE', username: 'alice' },
    actions: [{ type: 'button', action_id: o.action ?? 'approve_proposal', value: o.proposal, block_id: 'decide' }],
    response_url: 'https://hooks.slack.com/actions/T0/1/x',
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(o.at ?? Math.floor(Date.now() / 1000));
  return {
    body: o.tamper ? o.tamper(body) : body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(o.secret ?? SECRET, timestamp, body),
    },
  };
}

describe('POST /slack/interactions/{tenant}', () => {
  it('approves a proposal from a correctly signed button press, as slack:<user>, with no API key', async () => {
    const t = await setUp();
    const { body, headers } = interaction({ proposal: t.p.proposal_id });
    const res = await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ replace_original: true, text: expect.stringContaining('approved by <@U0ALICE>') });
    expect(await t.live()).toMatchObject({ status: 'approved', decided_by: 'slack:U0ALICE', version: 2 });
    expect(t.publisher.records('audit').at(-1)).toMatchObject({ actor: 'slack:U0ALICE', event: 'approved', subject_id: t.p.proposal_id });
  });

  it('rejects with the reject button', async () => {
    const t = await setUp();
    const { body, headers } = interaction({ proposal: t.p.proposal_id, action: 'reject_proposal' });
    expect((await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers)).status).toBe(200);
    expect(await t.live()).toMatchObject({ status: 'rejected', decided_by: 'slack:U0ALICE' });
  });

  it.each([
    ['a signature under another secret', { secret: 'not-the-signing-secret-at-all!!' }],
    ['a body changed after signing', { tamper: (b: string) => b.replace('approve_proposal', 'reject_proposal') }],
    ['a timestamp six minutes old (correctly signed)', { at: Math.floor(Date.now() / 1000) - 6 * 60 }],
    ['a timestamp six minutes ahead (correctly signed)', { at: Math.floor(Date.now() / 1000) + 6 * 60 }],
  ])('refuses %s with 401 and changes nothing', async (_what, o) => {
    const t = await setUp();
    const { body, headers } = interaction({ proposal: t.p.proposal_id, ...o });
    await expectError(await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers), 401, 'unauthorized');
    await t.unchanged();
  });

  it('refuses a request without the signature headers with 401', async () => {
    const t = await setUp();
    const { body } = interaction({ proposal: t.p.proposal_id });
    await expectError(
      await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, { 'content-type': 'application/x-www-form-urlencoded' }),
      401,
      'unauthorized',
    );
    await t.unchanged();
  });

  it('refuses an exact replay inside the window with 401, even of a request that changed nothing', async () => {
    const t = await setUp({ approvers: ['slack:U0BOB'] });
    // Signed by Slack, but from a user who may not decide: answered, nothing changed.
    const press = interaction({ proposal: t.p.proposal_id });
    const first = await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, press.body, press.headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ replace_original: false, text: expect.stringContaining('not one of the approvers') });
    await t.unchanged();

    const approve = interaction({ proposal: t.p.proposal_id, user: 'U0BOB' });
    expect((await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, approve.body, approve.headers)).status).toBe(200);
    const published = t.publisher.published.length;
    const replayed = await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, approve.body, approve.headers);
    const error = await expectError(replayed, 401, 'unauthorized');
    expect(error.message).toContain('replay');
    expect(t.publisher.published).toHaveLength(published);
    expect(await t.live()).toMatchObject({ status: 'approved', version: 2, decided_by: 'slack:U0BOB' });
  });

  it('answers 503 when Kafka does not acknowledge, and takes the same request again once it does (its signature not spent)', async () => {
    const t = await setUp();
    const { body, headers } = interaction({ proposal: t.p.proposal_id });
    t.publisher.setDown(true);
    await expectError(await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers), 503, 'unavailable');
    await t.unchanged();
    t.publisher.setDown(false);
    expect((await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers)).status).toBe(200);
    expect((await t.live()).status).toBe('approved');
  });

  it.each(['open_dashboard', 'constructor'])('refuses a signed payload whose button is %s (not a proposal button) with 400', async (action) => {
    const t = await setUp();
    const { body, headers } = interaction({ proposal: t.p.proposal_id, action });
    await expectError(await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers), 400, 'bad_request');
    await t.unchanged();
  });

  it('tells the user a proposal was already decided, changing nothing', async () => {
    const t = await setUp();
    expect((await t.a('POST', `/v1/proposals/${t.p.proposal_id}/reject`, { comment: 'no' })).status).toBe(200);
    const { body, headers } = interaction({ proposal: t.p.proposal_id });
    const res = await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, body, headers);
    expect(await res.json()).toEqual({ replace_original: true, text: expect.stringContaining('it is rejected by api:api') });
    expect((await t.live()).status).toBe('rejected');
  });

  it("keeps tenants apart: tenant a's secret does not sign for tenant b, and a's path does not reach b's proposals", async () => {
    const t = await setUp();
    const theirs = proposalRecord(TEST_TENANTS.b);
    await t.proposals!.propose(theirs, 'policy:pol-1');
    const published = () => t.publisher.records('proposals').length;
    const before = published();

    // b has no signing secret: nothing to verify against.
    const toB = interaction({ proposal: theirs.proposal_id });
    await expectError(await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.b}`, toB.body, toB.headers), 401, 'unauthorized');
    // b with a secret of its own: a's signature is still not b's.
    expect((await t.b('PUT', '/v1/remediation-settings', { slack_signing_secret: 'b-has-its-own-signing-secret' })).status).toBe(200);
    const again = interaction({ proposal: theirs.proposal_id, at: Math.floor(Date.now() / 1000) - 1 });
    await expectError(await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.b}`, again.body, again.headers), 401, 'unauthorized');
    // Signed for a, naming b's proposal: not found among a's.
    const viaA = interaction({ proposal: theirs.proposal_id, at: Math.floor(Date.now() / 1000) - 2 });
    const res = await t.anonymous('POST', `/slack/interactions/${TEST_TENANTS.a}`, viaA.body, viaA.headers);
    expect(await res.json()).toMatchObject({ replace_original: false, text: expect.stringContaining(`no proposal ${theirs.proposal_id}`) });
    expect((await t.proposals!.get(TEST_TENANTS.b, theirs.proposal_id))!.status).toBe('proposed');
    expect((await t.live()).status).toBe('proposed');
    expect(published()).toBe(before);
  });
});
