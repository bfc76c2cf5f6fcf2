import type { ProposalRecord } from '../../schemas/topics.ts';
import { formatDuration } from '../../tenant-config/duration.ts';
import { executionSummary, proposalNews } from './proposals.ts';
import { context, cut, escapeMrkdwn, header, listItems, mrkdwn, section, SLACK_LIMITS, slackDate, type SlackBlock, type SlackButton } from './slack.ts';

/**
 * Slack messages about remediation proposals. Blocks sit at the top level of
 * the message, not in an attachment as the incident messages' do: that is
 * where Slack's interactivity is documented, and the Approve and Reject
 * buttons are interactive. Clicking one sends a `block_actions` request to
 * the Slack app's interactivity URL (the gateway's
 * `POST /slack/interactions/:tenant`) with the button's `action_id`
 * (`approve_proposal` or `reject_proposal`) and `value` (the proposal id).
 */
export interface SlackProposalMessage {
  text: string;
  blocks: SlackBlock[];
}

export const APPROVE_ACTION_ID = 'approve_proposal';
export const REJECT_ACTION_ID = 'reject_proposal';

/** The variables people decide on, first; the rest follow by name. */
const FIRST_VARIABLES = ['suspect_version', 'previous_version'];

/** The message for one version of a proposal; null for a version nobody is told about (see proposalNews). */
export function slackProposalMessage(p: ProposalRecord, incidentUrl: string | null): SlackProposalMessage | null {
  const news = proposalNews(p);
  if (news === null) return null;
  return news === 'outcome' ? outcomeMessage(p, incidentUrl) : requestMessage(p, incidentUrl, news === 'decision');
}

/** A proposal waiting for a decision (with the buttons), or a suggestion to read (without). */
function requestMessage(p: ProposalRecord, incidentUrl: string | null, decide: boolean): SlackProposalMessage {
  const action = escapeMrkdwn(p.action_name);
  const service = escapeMrkdwn(p.service);
  const fields = [
    `*Service*\n${service}`,
    `*Action*\n${action} (${escapeMrkdwn(p.action_kind)})`,
    `*Risk*\n${riskText(p.risk)}`,
    `*Incident*\n${incidentText(p, incidentUrl)}`,
    ...(decide ? [`*Expires*\n${slackDate(p.expires_at)}`] : []),
    `*Policy*\n${escapeMrkdwn(p.policy_name)}`,
  ];
  const blocks: SlackBlock[] = [
    header(`${decide ? ':raised_hand: Approval needed' : ':bulb: Suggested'}: ${p.action_name} on ${p.service}`),
    section(
      decide
        ? `Policy *${escapeMrkdwn(p.policy_name)}* proposes to run *${action}* on *${service}*${p.dry_run ? ' as a dry run (nothing will be called)' : ''}. Approve or reject it before it expires.`
        : `Policy *${escapeMrkdwn(p.policy_name)}* suggests *${action}* on *${service}*. It is a suggestion: nothing runs from here.`,
    ),
    { type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields).map((f) => mrkdwn(cut(f, 2000))) },
  ];
  const variables = variableLines(p.variables);
  if (variables.length > 0) blocks.push(section(listItems('*Variables*', variables)));
  if (decide) blocks.push({ type: 'actions', elements: decisionButtons(p) });
  blocks.push(context([`Proposal ${escapeMrkdwn(p.proposal_id)} · v${p.version} · ${p.mode}${p.dry_run ? ' · dry run' : ''}`]));
  const text = decide
    ? `Approval needed: ${action} on ${service} (risk ${escapeMrkdwn(p.risk)}), expires ${slackDate(p.expires_at)}`
    : `Suggested: ${action} on ${service} (risk ${escapeMrkdwn(p.risk)})`;
  return { text: cut(text, SLACK_LIMITS.text), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** Approve (primary, behind a confirmation) and Reject (danger); each carries the proposal id as its value. */
export function decisionButtons(p: Pick<ProposalRecord, 'proposal_id' | 'action_name' | 'service' | 'risk' | 'dry_run'>): SlackButton[] {
  const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: cut(text, max) });
  return [
    {
      type: 'button',
      action_id: APPROVE_ACTION_ID,
      text: plain('Approve', SLACK_LIMITS.buttonText),
      value: p.proposal_id,
      style: 'primary',
      confirm: {
        title: plain('Approve this action?', SLACK_LIMITS.confirmTitle),
        text: plain(
          `${p.dry_run ? 'Dry run of' : 'Run'} ${p.action_name} on ${p.service} (risk ${p.risk}). It runs once, as soon as it is approved.`,
          SLACK_LIMITS.confirmText,
        ),
        confirm: plain('Approve', SLACK_LIMITS.confirmButton),
        deny: plain('Cancel', SLACK_LIMITS.confirmButton),
        style: 'primary',
      },
    },
    { type: 'button', action_id: REJECT_ACTION_ID, text: plain('Reject', SLACK_LIMITS.buttonText), value: p.proposal_id, style: 'danger' },
  ];
}

/** One line on what became of the proposal, and the facts under it. */
function outcomeMessage(p: ProposalRecord, incidentUrl: string | null): SlackProposalMessage {
  const line = outcomeLine(p, incidentUrl);
  const facts = [`Proposal ${escapeMrkdwn(p.proposal_id)} · v${p.version} · policy ${escapeMrkdwn(p.policy_name)} · ${p.mode}${p.dry_run ? ' · dry run' : ''}`];
  const e = p.execution && executionSummary(p.execution);
  if (e?.method && e.url) facts.push(`Called ${e.method} ${escapeMrkdwn(e.url)}`);
  if (p.incident_id !== null) facts.push(`Incident ${incidentText(p, incidentUrl)}`);
  return { text: cut(line, SLACK_LIMITS.text), blocks: [section(line), context(facts)] };
}

function outcomeLine(p: ProposalRecord, incidentUrl: string | null): string {
  const what = `*${escapeMrkdwn(p.action_name)}* on *${escapeMrkdwn(p.service)}*`;
  const reason = p.reason?.trim() ? cut(escapeMrkdwn(p.reason.trim()), 500) : '';
  const e = p.execution && executionSummary(p.execution);
  const answer = e ? [e.status_code === null ? null : `HTTP ${e.status_code}`, `${Math.round(e.duration_ms)} ms`].filter(Boolean).join(' in ') : '';
  const window = formatDuration(p.verify_within_ms);
  const incident = p.incident_id === null ? 'the incident' : `incident ${incidentText(p, incidentUrl)}`;
  switch (p.status) {
    case 'succeeded':
      return p.dry_run
        ? `:test_tube: Dry run of ${what} done: nothing was called.`
        : `:white_check_mark: Ran ${what}${answer ? `: ${answer}` : ''}. Watching whether ${incident} resolves within ${window}.`;
    case 'failed': {
      const error = e?.error?.trim() ? cut(escapeMrkdwn(e.error.trim()), 500) : reason;
      return `:x: ${what} failed${answer ? ` (${answer})` : ''}${error ? `: ${error}` : ''}.`;
    }
    case 'blocked':
      return `:no_entry: ${what} was blocked and did not run${reason ? `: ${reason}` : ''}.`;
    case 'effective':
      return `:white_check_mark: ${what} worked: ${incident} resolved within ${window} of the action.`;
    case 'ineffective':
      return `:warning: ${what} did not resolve ${incident} within ${window}${reason ? ` (${reason})` : ''}.`;
    case 'rejected': {
      const comment = p.comment?.trim() ? `: “${cut(escapeMrkdwn(p.comment.trim()), 500)}”` : '';
      return `:no_entry_sign: The proposal to run ${what} was rejected${p.decided_by ? ` by ${escapeMrkdwn(p.decided_by)}` : ''}${comment}.`;
    }
    case 'expired':
      return `:hourglass: The proposal to run ${what} expired after ${formatDuration(p.expires_at - p.created_at)} without a decision; it will not run.`;
    default:
      return `${what}: ${p.status}.`;
  }
}

function variableLines(variables: Record<string, string>): string[] {
  const names = Object.keys(variables).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((name) => `*${escapeMrkdwn(name)}*: ${variables[name] === '' ? '—' : cut(escapeMrkdwn(variables[name]!), 300)}`);
}
const rank = (name: string) => (FIRST_VARIABLES.includes(name) ? FIRST_VARIABLES.indexOf(name) : FIRST_VARIABLES.length);

function incidentText(p: Pick<ProposalRecord, 'incident_id' | 'trigger' | 'subject_id'>, url: string | null): string {
  if (p.incident_id === null) return `none (${escapeMrkdwn(p.trigger)} ${escapeMrkdwn(p.subject_id)})`;
  const id = escapeMrkdwn(p.incident_id);
  // A link's URL may not hold | or > ; the incident URL's id is URI-encoded, so only an odd base could.
  return url && /^https?:\/\/[^|<>\s]+$/i.test(url) && url.length <= SLACK_LIMITS.url ? `<${url}|${id}>` : id;
}

const riskText = (risk: string) => (risk === 'high' ? ':warning: high' : escapeMrkdwn(risk));
