import { describe, expect, it } from 'vitest';
import { sampleAlert, sampleAnalysis } from '../../test/fixtures/notifications.ts';
import { cut, escapeMrkdwn, SLACK_LIMITS, slackAlertMessage, slackMessage, type SlackBlock, type SlackMessage } from './slack.ts';

const URL = 'https://autopilot.example.com/incidents/inc-42';

/** Every text Slack will read, with the limit that applies to it. */
function texts(m: SlackMessage): { text: string; max: number }[] {
  const out: { text: string; max: number }[] = [{ text: m.text, max: SLACK_LIMITS.text }];
  for (const b of m.attachments.flatMap((a) => a.blocks)) {
    if (b.type === 'header') out.push({ text: b.text.text, max: SLACK_LIMITS.header });
    if (b.type === 'section') {
      if ('text' in b) out.push({ text: b.text.text, max: SLACK_LIMITS.text });
      for (const f of b.fields ?? []) out.push({ text: f.text, max: 2000 });
    }
    if (b.type === 'context') for (const e of b.elements) out.push({ text: e.text, max: SLACK_LIMITS.text });
    if (b.type === 'actions') for (const e of b.elements) out.push({ text: e.text.text, max: SLACK_LIMITS.buttonText });
  }
  return out;
}
const sectionTexts = (m: SlackMessage) => m.attachments[0]!.blocks.flatMap((b) => (b.type === 'section' && 'text' in b ? [b.text.text] : []));
const blockOf = <T extends SlackBlock['type']>(m: SlackMessage, type: T) =>
  m.attachments[0]!.blocks.find((b) => b.type === type) as Extract<SlackBlock, { type: T }> | undefined;

describe('slackMessage', () => {
  it('colours the attachment by severity', () => {
    const colors = ['critical', 'high', 'medium', 'low'].map((severity) => slackMessage(sampleAnalysis({ severity }), URL).attachments[0]!.color);
    expect(colors).toEqual(['#B00020', '#E8590C', '#F2C744', '#2F80ED']);
    expect(new Set(colors).size).toBe(4);
  });

  it('shows the root cause with confidence and source, anomalies with values, actions with risk by priority, impact and a link', () => {
    const m = slackMessage(sampleAnalysis(), URL);
    expect(m.text).toBe('HIGH incident on checkout: Deployment v2.3.1 raised p99 latency through a slow database query');
    expect(blockOf(m, 'header')!.text.text).toBe(':large_orange_circle: HIGH incident: checkout');
    const [rootCause, signals, actions, impact] = sectionTexts(m);
    expect(rootCause).toMatch(/^\*Root cause\* · 82% confidence · source: llm \(llama3\.2:3b, prompt incident-analysis v3\)\nDeployment v2\.3\.1/);
    expect(signals).toContain('[critical] anomaly: http_request_duration_p99 = 950 vs baseline 210 (z 8.4)');
    expect(signals).toContain('[high] error_spike: ERROR lines = 140/min vs baseline 3');
    const actionLines = actions!.split('\n').slice(1);
    expect(actionLines).toEqual([
      expect.stringMatching(/^• \*Roll back checkout to v2\.3\.0\* \(risk: :warning: high, priority 1\)/),
      expect.stringMatching(/^• \*Add an index on orders\.customer_id\* \(risk: medium, priority 2\)/),
      expect.stringMatching(/^• \*Watch the p99 for 15 minutes\* \(risk: low, priority 3\)/),
    ]);
    expect(impact).toBe('*Customer impact*\nAbout 12% of checkouts take over 2 s');
    expect(blockOf(m, 'actions')!.elements[0]).toEqual({ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: URL, style: 'primary' });
  });

  it('says when the rules answered and why', () => {
    const m = slackMessage(sampleAnalysis({ source: 'rules', model: null, fallback_reason: 'timeout' }), URL);
    expect(sectionTexts(m)[0]).toMatch(/source: rules \(fallback: timeout\)/);
  });

  it('stays within Slack limits however long the analysis is', () => {
    const long = 'x'.repeat(10_000);
    const m = slackMessage(
      sampleAnalysis({
        service: 's'.repeat(500),
        root_cause: { description: long, confidence: 0.5, reasoning: long },
        estimated_customer_impact: `${'&'.repeat(5000)}`,
        signals: Array.from({ length: 300 }, (_, i) => ({ kind: 'anomaly', at: 0, summary: `metric_${i} ${long}`, severity: 'high' })),
        recommended_actions: Array.from({ length: 100 }, (_, i) => ({ action: long, reasoning: long, risk: 'low' as const, priority: i })),
      }),
      URL,
    );
    const all = texts(m);
    for (const { text, max } of all) expect(text.length).toBeLessThanOrEqual(max);
    expect(m.attachments[0]!.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const [, signals, actions, impact] = sectionTexts(m);
    expect(signals).toMatch(/…and \d+ more$/);
    expect(actions).toMatch(/…and \d+ more$/);
    // Cut text never ends inside an escape sequence.
    expect(impact).toMatch(/(&amp;)+…$/);
    expect(m.text.endsWith('…')).toBe(true);
  });

  it('escapes mrkdwn control characters from the model', () => {
    const m = slackMessage(sampleAnalysis({ root_cause: { description: 'ping <!channel> & <https://evil.example|docs>', confidence: 1, reasoning: '' } }), URL);
    expect(sectionTexts(m)[0]).toContain('ping &lt;!channel&gt; &amp; &lt;https://evil.example|docs&gt;');
    expect(m.text).not.toContain('<!channel>');
  });

  it('leaves out a link button Slack would refuse', () => {
    expect(blockOf(slackMessage(sampleAnalysis(), 'javascript:alert(1)'), 'actions')).toBeUndefined();
  });
});

describe('slackAlertMessage', () => {
  it('announces a firing alert, coloured by its severity', () => {
    const m = slackAlertMessage(sampleAlert());
    expect(m.text).toBe('[FIRING] CheckoutLatencyHigh on checkout (critical): p99 latency above 500 ms');
    expect(m.attachments[0]!.color).toBe('#B00020');
    expect(blockOf(m, 'header')!.text.text).toBe(':red_circle: FIRING: CheckoutLatencyHigh');
    const fields = (blockOf(m, 'section') as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toEqual(expect.arrayContaining(['*Service*\ncheckout', '*Severity*\ncritical', '*Source*\nrule r1', '*Value*\n950.5']));
    expect(blockOf(m, 'actions')!.elements[0]!.url).toBe('https://autopilot.example.com/rules/r1');
    expect(slackAlertMessage(sampleAlert({ severity: 'warning' })).attachments[0]!.color).toBe('#F2C744');
  });

  it('announces a resolution in green with its end time', () => {
    const m = slackAlertMessage(sampleAlert({ status: 'resolved', ends_at: Date.parse('2024-05-01T12:20:00Z') }));
    expect(m.text.startsWith('[RESOLVED] CheckoutLatencyHigh')).toBe(true);
    expect(m.attachments[0]!.color).toBe('#2EB67D');
    expect(blockOf(m, 'header')!.text.text).toBe(':white_check_mark: RESOLVED: CheckoutLatencyHigh');
    expect(JSON.stringify(m)).toContain('*Ended*\\n<!date^1714566000^');
  });

  it('stays within limits with huge annotations and labels', () => {
    const big = 'y'.repeat(20_000);
    const m = slackAlertMessage(
      sampleAlert({
        alert_name: big,
        annotations: { summary: big, description: big },
        labels: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`l${i}`, big])),
      }),
    );
    for (const { text, max } of texts(m)) expect(text.length).toBeLessThanOrEqual(max);
  });
});

describe('escape and cut', () => {
  it('escapes &, < and >', () => {
    expect(escapeMrkdwn('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
  });
  it('cuts to the limit with an ellipsis, not inside an escape or a surrogate pair', () => {
    expect(cut('abcdef', 6)).toBe('abcdef');
    expect(cut('abcdefg', 6)).toBe('abcde…');
    expect(cut('abc&amp;def', 6)).toBe('abc…');
    expect(cut('abcd😀xyz', 6)).toBe('abcd…');
  });
});
