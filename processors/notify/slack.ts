import type { AlertRecord, AnalysisRecord } from '../../schemas/topics.ts';
import { severityRank } from '../../lib/severity.ts';
import { isoTimeSeconds } from '../../lib/time.ts';

/**
 * Slack incoming-webhook messages: a `text` fallback (what notifications and
 * old clients show) and one attachment whose colour is the severity and
 * whose Block Kit blocks carry the content. Slack refuses a message past
 * its limits, so every text is cut to fit.
 */
export const SLACK_LIMITS = {
  text: 3000,
  header: 150,
  blocks: 50,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  contextElements: 10,
  listItems: 15,
  fields: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

export interface SlackMessage {
  text: string;
  attachments: { color: string; blocks: SlackBlock[] }[];
}
export type SlackText = { type: 'mrkdwn'; text: string } | { type: 'plain_text'; text: string; emoji?: boolean };
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text: SlackText; fields?: SlackText[] }
  | { type: 'section'; fields: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: SlackButton[] };

/**
 * A link button (`url`), or an interactive one (`action_id` and `value`,
 * sent to the Slack app's interactivity endpoint when clicked), with an
 * optional confirmation dialog before it fires.
 */
export interface SlackButton {
  type: 'button';
  text: { type: 'plain_text'; text: string; emoji?: boolean };
  url?: string;
  action_id?: string;
  value?: string;
  style?: 'primary' | 'danger';
  confirm?: SlackConfirm;
}
export interface SlackConfirm {
  title: { type: 'plain_text'; text: string };
  text: { type: 'plain_text'; text: string };
  confirm: { type: 'plain_text'; text: string };
  deny: { type: 'plain_text'; text: string };
  style?: 'primary' | 'danger';
}

/** By rank: low, medium, high, critical; then anything unknown. */
const COLORS = ['#2F80ED', '#F2C744', '#E8590C', '#B00020', '#8A8F98'];
const EMOJI = [':large_blue_circle:', ':large_yellow_circle:', ':large_orange_circle:', ':red_circle:', ':white_circle:'];
const RESOLVED_COLOR = '#2EB67D';

const severityColor = (severity: string) => COLORS[severityRank(severity)]!;
const severityEmoji = (severity: string) => EMOJI[severityRank(severity)]!;

/** Where an alert came from, as the message names it (rule_id is the rule's, or the probe job's, id). */
const ALERT_SOURCES: Record<AlertRecord['source'], (id: string) => string> = {
  alertmanager: () => 'Alertmanager',
  rule: (id) => `rule ${id}`,
  probe: (id) => `probe job ${id}`,
};

/** The message for an analyzed incident. */
export function slackMessage(analysis: AnalysisRecord, incidentUrl: string): SlackMessage {
  const a = analysis;
  const sev = a.severity.toUpperCase();
  const blocks: SlackBlock[] = [
    header(`${severityEmoji(a.severity)} ${sev} incident: ${a.service}`),
    context([
      `*Tenant* ${a.tenant}`,
      `*Incident* ${a.incident_id}`,
      `*Opened* ${slackDate(a.incident_opened_at)}`,
      `*Incident severity* ${a.incident_severity}`,
    ]),
    section(
      `*Root cause* · ${Math.round(clamp01(a.root_cause.confidence) * 100)}% confidence · ${analysisSource(a)}\n` +
        cut(escapeMrkdwn(a.root_cause.description), 1500) +
        (a.root_cause.reasoning.trim() ? `\n_${cut(escapeMrkdwn(a.root_cause.reasoning), 1000)}_` : ''),
    ),
  ];
  if (a.signals.length > 0) blocks.push(section(listItems('*Anomalies and signals*', a.signals.map(signalLine))));
  if (a.recommended_actions.length > 0) {
    const actions = [...a.recommended_actions].sort((x, y) => x.priority - y.priority);
    blocks.push(section(listItems('*Recommended actions*', actions.map(actionLine))));
  }
  if (a.estimated_customer_impact.trim()) blocks.push(section(`*Customer impact*\n${cut(escapeMrkdwn(a.estimated_customer_impact), 2500)}`));
  const button = linkButton('Open incident', incidentUrl, 'primary');
  if (button) blocks.push(button);

  return {
    text: cut(`${sev} incident on ${escapeMrkdwn(a.service)}: ${escapeMrkdwn(a.root_cause.description)}`, SLACK_LIMITS.text),
    attachments: [{ color: severityColor(a.severity), blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

/** The message for an alert rule (or Alertmanager alert) that fires or resolves. */
export function slackAlertMessage(alert: AlertRecord): SlackMessage {
  const firing = alert.status === 'firing';
  const state = firing ? 'FIRING' : 'RESOLVED';
  const summary = alert.annotations.summary ?? alert.annotations.description ?? '';
  const fields = [
    `*Service*\n${escapeMrkdwn(alert.service)}`,
    `*Severity*\n${escapeMrkdwn(alert.severity)}`,
    `*Source*\n${ALERT_SOURCES[alert.source](escapeMrkdwn(alert.rule_id ?? ''))}`,
    `*Started*\n${slackDate(alert.starts_at)}`,
  ];
  if (!firing && alert.ends_at !== null) fields.push(`*Ended*\n${slackDate(alert.ends_at)}`);
  if (alert.value !== null) fields.push(`*Value*\n${formatNumber(alert.value)}`);

  const blocks: SlackBlock[] = [
    header(`${firing ? severityEmoji(alert.severity) : ':white_check_mark:'} ${state}: ${alert.alert_name}`),
    { type: 'section', fields: fields.map((f) => mrkdwn(cut(f, 2000))) },
  ];
  if (alert.annotations.summary && alert.annotations.description) {
    blocks.push(section(`*${cut(escapeMrkdwn(alert.annotations.summary), 500)}*\n${escapeMrkdwn(alert.annotations.description)}`));
  } else if (summary) {
    blocks.push(section(escapeMrkdwn(summary)));
  }
  const labels = Object.entries(alert.labels).map(([k, v]) => `${k}=${v}`);
  if (labels.length > 0) blocks.push(context([`*Labels* ${escapeMrkdwn(labels.join(', '))}`]));
  const button = alert.generator_url ? linkButton('Source', alert.generator_url) : null;
  if (button) blocks.push(button);

  return {
    text: cut(
      `[${state}] ${escapeMrkdwn(alert.alert_name)} on ${escapeMrkdwn(alert.service)} (${escapeMrkdwn(alert.severity)})${summary ? `: ${escapeMrkdwn(summary)}` : ''}`,
      SLACK_LIMITS.text,
    ),
    attachments: [{ color: firing ? severityColor(alert.severity) : RESOLVED_COLOR, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }],
  };
}

function analysisSource(a: AnalysisRecord): string {
  const experiment = a.variant ? `, variant ${escapeMrkdwn(a.variant)}` : '';
  if (a.source === 'llm')
    return `source: llm (${escapeMrkdwn(a.model ?? 'unknown model')}, prompt ${escapeMrkdwn(a.prompt_name)} v${a.prompt_version}${experiment})`;
  return `source: rules${a.fallback_reason ? ` (fallback: ${escapeMrkdwn(a.fallback_reason)})` : ''}`;
}

function signalLine(s: AnalysisRecord['signals'][number]): string {
  const sev = s.severity ? `[${escapeMrkdwn(s.severity)}] ` : '';
  return `${sev}${escapeMrkdwn(s.kind)}: ${cut(escapeMrkdwn(s.summary), 300)} · ${slackDate(s.at)}`;
}

function actionLine(a: AnalysisRecord['recommended_actions'][number]): string {
  const risk = a.risk === 'high' ? ':warning: high' : a.risk;
  const reasoning = a.reasoning.trim() ? ` — ${cut(escapeMrkdwn(a.reasoning), 500)}` : '';
  return `*${cut(escapeMrkdwn(a.action), 300)}* (risk: ${risk}, priority ${a.priority})${reasoning}`;
}

/**
 * A titled bulleted list: whole lines only (a cut line could break a link or
 * date), at most `listItems` of them and within the text limit, then how
 * many were left out.
 */
export function listItems(title: string, lines: string[]): string {
  let text = title;
  let shown = 0;
  for (const line of lines) {
    const next = `${text}\n• ${line}`;
    if (shown === SLACK_LIMITS.listItems || next.length > SLACK_LIMITS.text - 40) break;
    text = next;
    shown++;
  }
  return shown < lines.length ? `${text}\n…and ${lines.length - shown} more` : text;
}

export const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
export const section = (text: string): SlackBlock => ({ type: 'section', text: mrkdwn(cut(text, SLACK_LIMITS.text)) });
export const header = (text: string): SlackBlock => ({ type: 'header', text: { type: 'plain_text', text: cut(text, SLACK_LIMITS.header), emoji: true } });
export const context = (texts: string[]): SlackBlock => ({
  type: 'context',
  elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => mrkdwn(cut(t, SLACK_LIMITS.text))),
});

/** A link button, or null when Slack would refuse the URL (not http(s), or too long). */
function linkButton(label: string, url: string, style?: 'primary'): SlackBlock | null {
  if (!/^https?:\/\//i.test(url) || url.length > SLACK_LIMITS.url) return null;
  return {
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: cut(label, SLACK_LIMITS.buttonText) }, url, ...(style ? { style } : {}) }],
  };
}

/**
 * Slack's mrkdwn reads &, < and > as markup: `<!channel>` in a model's
 * answer would page a whole channel, `<http://x|y>` would disguise a link.
 * Escaped, they show as typed.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` characters, ending in "…" when cut; never ends inside an escape (&amp; …). */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1).replace(/&[a-z]{0,3}$/, '');
  // Do not leave half a surrogate pair behind either.
  return `${/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head}…`;
}

/** Slack shows the date in the reader's time zone; the fallback is UTC. */
export function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${isoTimeSeconds(ms)}>`;
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const formatNumber = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, ''));
