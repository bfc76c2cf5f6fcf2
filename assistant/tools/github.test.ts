import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, HOUR, MIN } from '../../test/helpers/assistant-data.ts';
import type { GitHubAccess, ToolContext } from '../tool.ts';
import { githubActivity } from './github.ts';

/**
 * github_activity against a local stand-in of GitHub's REST API: the
 * requests it makes (path, query, headers), how commits and pull requests
 * come back, and GitHub's refusals as plain errors. No ClickHouse involved.
 */
const NOW = Date.parse('2026-12-02T15:00:00Z');
const TOKEN = 'ghp_standInToken000000000000000000000001';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const COMMITS = [
  {
    sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    html_url: 'https://github.com/acme/checkout/commit/a1b2c3d',
    commit: {
      message: 'Raise the payment client timeout\n\nThe detail: password=hunter2 in the old config',
      author: { name: 'Ada', date: iso(NOW - 2 * HOUR) },
      committer: { date: iso(NOW - 2 * HOUR) },
    },
    author: { login: 'ada' },
  },
  {
    sha: 'ffffeeee0000111122223333444455556666aaaa',
    html_url: 'https://github.com/acme/checkout/commit/ffffeee',
    commit: { message: 'Bump deps', author: { name: 'Bot', date: iso(NOW - 3 * HOUR) }, committer: { date: iso(NOW - 3 * HOUR) } },
    author: null,
  },
];

const PULLS = [
  {
    number: 42,
    title: 'Cache the cart',
    html_url: 'https://github.com/acme/checkout/pull/42',
    merged_at: iso(NOW - 90 * MIN),
    user: { login: 'bob' },
    base: { ref: 'main' },
  },
  // Closed without merging: not a change.
  { number: 41, title: 'Abandoned idea', html_url: 'https://github.com/acme/checkout/pull/41', merged_at: null, user: { login: 'eve' }, base: { ref: 'main' } },
  {
    number: 40,
    title: 'Retry payments',
    html_url: 'https://github.com/acme/checkout/pull/40',
    merged_at: iso(NOW - 5 * HOUR),
    user: { login: 'ada' },
    base: { ref: 'main' },
  },
  // Merged long before the range, updated since.
  {
    number: 12,
    title: 'Old',
    html_url: 'https://github.com/acme/checkout/pull/12',
    merged_at: iso(NOW - 30 * 24 * HOUR),
    user: { login: 'ada' },
    base: { ref: 'main' },
  },
];

let server: Server;
let apiUrl: string;
const requests: { url: URL; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://stand-in');
    requests.push({ url, headers: req.headers });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    if (url.pathname === '/repos/acme/checkout/commits') return send(200, COMMITS);
    if (url.pathname === '/repos/acme/checkout/pulls') return send(200, PULLS);
    if (url.pathname.startsWith('/repos/acme/ratelimited/')) return send(403, { message: 'API rate limit exceeded' });
    return send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => new Promise<void>((resolve) => server?.close(() => resolve())));

const github = (over: Partial<GitHubAccess> = {}): GitHubAccess => ({
  apiUrl,
  token: TOKEN,
  repos: { checkout: 'acme/checkout', payments: 'acme/payments', ratelimited: 'acme/ratelimited' },
  fetch: (url, init) => fetch(url, init),
  ...over,
});
const ctx = (over: Partial<ToolContext> = {}): ToolContext => ({
  tenant: 'acme',
  ch: undefined as never, // reads no ClickHouse
  now: NOW,
  maxRows: 50,
  signal: new AbortController().signal,
  github: github(),
  ...over,
});

describe('github_activity', () => {
  it("asks GitHub for the service's repository with the token and API version, and maps commits and merged pull requests", async () => {
    requests.length = 0;
    const r = await callTool(githubActivity, { service: 'checkout', since: '6h' }, ctx());
    const commits = requests.find((q) => q.url.pathname.endsWith('/commits'))!;
    expect(commits.url.searchParams.get('since')).toBe('2026-12-02T09:00:00.000Z');
    expect(commits.url.searchParams.get('until')).toBe('2026-12-02T15:00:00.000Z');
    const pulls = requests.find((q) => q.url.pathname.endsWith('/pulls'))!;
    expect(Object.fromEntries(pulls.url.searchParams)).toMatchObject({ state: 'closed', sort: 'updated', direction: 'desc' });
    for (const q of [commits, pulls]) {
      expect(q.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(q.headers.accept).toBe('application/vnd.github+json');
      expect(q.headers['x-github-api-version']).toBe('2022-11-28');
    }
    expect(r.data).toEqual({
      service: 'checkout',
      repository: 'acme/checkout',
      since: '2026-12-02T09:00:00Z',
      until: '2026-12-02T15:00:00Z',
      pull_requests: [
        {
          number: 42,
          ref: 'pull:42',
          title: 'Cache the cart',
          author: 'bob',
          merged_at: iso(NOW - 90 * MIN),
          base: 'main',
          merge_commit: null,
          url: PULLS[0]!.html_url,
        },
        {
          number: 40,
          ref: 'pull:40',
          title: 'Retry payments',
          author: 'ada',
          merged_at: iso(NOW - 5 * HOUR),
          base: 'main',
          merge_commit: null,
          url: PULLS[2]!.html_url,
        },
      ],
      commits: [
        {
          sha: COMMITS[0]!.sha,
          ref: `commit:${COMMITS[0]!.sha}`,
          message: 'Raise the payment client timeout',
          author: 'ada',
          at: iso(NOW - 2 * HOUR),
          url: COMMITS[0]!.html_url,
        },
        { sha: COMMITS[1]!.sha, ref: `commit:${COMMITS[1]!.sha}`, message: 'Bump deps', author: 'Bot', at: iso(NOW - 3 * HOUR), url: COMMITS[1]!.html_url },
      ],
    });
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(r.evidence.map((e) => e.ref)).toEqual(['pull:42', 'pull:40', `commit:${COMMITS[0]!.sha}`, `commit:${COMMITS[1]!.sha}`]);
    expect(r).toMatchObject({ rows: 4, truncated: false });
  });

  it('shares the row limit between pull requests and commits, and says when it cut', async () => {
    const r = await callTool(githubActivity, { service: 'checkout', since: '6h' }, ctx({ maxRows: 2 }));
    expect(r).toMatchObject({ rows: 2, truncated: true });
    expect(r.evidence.map((e) => e.ref)).toEqual(['pull:42', `commit:${COMMITS[0]!.sha}`]);
  });

  it("GitHub's refusals are plain errors: a bad token (401), a repository it does not have (404), a rate limit (403)", async () => {
    await expect(callTool(githubActivity, { service: 'checkout' }, ctx({ github: github({ token: 'wrong' }) }))).rejects.toThrow(
      'GitHub refused the token (401 Unauthorized): check ASSISTANT_GITHUB_TOKEN',
    );
    await expect(callTool(githubActivity, { service: 'payments' }, ctx())).rejects.toThrow(
      'GitHub has no repository acme/payments (404), or the token cannot see it',
    );
    await expect(callTool(githubActivity, { service: 'ratelimited' }, ctx())).rejects.toThrow(/GitHub answered 403 .*API rate limit exceeded/);
  });

  it('a service without a repository, GitHub unreachable, or no GitHub at all: clear errors', async () => {
    await expect(callTool(githubActivity, { service: 'ledger' }, ctx())).rejects.toThrow(
      "no GitHub repository is configured for service 'ledger'; configured: checkout, payments, ratelimited",
    );
    await expect(callTool(githubActivity, { service: 'checkout' }, ctx({ github: github({ apiUrl: 'http://127.0.0.1:9' }) }))).rejects.toThrow(
      /could not reach GitHub at http:\/\/127\.0\.0\.1:9/,
    );
    await expect(callTool(githubActivity, { service: 'checkout' }, ctx({ github: undefined }))).rejects.toThrow(/GitHub is not configured/);
  });
});
