import { z } from 'zod';
import { describeError } from '../../lib/errors.ts';
import { isoTime, isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool, type GitHubAccess, type ToolContext } from '../tool.ts';
import { badArgs, freeText, limitArg, refs, rowLimit, serviceArg } from './read.ts';

/**
 * The outside tool: a service's source repository on GitHub (the repository
 * comes from configuration, `ctx.github.repos`, never from the model), its
 * commits and merged pull requests in a range, through the REST API
 * (version 2022-11-28):
 *
 *   GET /repos/{owner}/{repo}/commits?since=…&until=…&per_page=…
 *   GET /repos/{owner}/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=…
 *
 * Pull requests come closed and most recently updated first; those merged
 * within the range are kept (a pull request merged in the range was updated
 * at or after its merge, so one page of recently updated ones holds them
 * unless the repository is very busy). Offered only when GitHub is
 * configured (tools/index.ts).
 */
const DAY = 24 * 3_600_000;
/** GitHub's largest page. */
const PER_PAGE_MAX = 100;

interface GitHubCommit {
  sha: string;
  html_url?: string;
  commit?: { message?: string; author?: { name?: string; date?: string } | null; committer?: { date?: string } | null };
  author?: { login?: string } | null;
}

interface GitHubPull {
  number: number;
  title?: string;
  html_url?: string;
  merged_at?: string | null;
  user?: { login?: string } | null;
  base?: { ref?: string };
  merge_commit_sha?: string | null;
}

export const githubActivity = defineTool({
  name: 'github_activity',
  description:
    "A service's source repository on GitHub: commits and merged pull requests in a range (default the last 24h), newest first. " +
    'Use it to see what code changed before a deployment or an incident.',
  args: z.strictObject({ service: serviceArg, ...rangeArgs('24h'), limit: limitArg }),
  async run(args, ctx) {
    const github = ctx.github;
    if (!github) throw new Error('GitHub is not configured for the assistant (ASSISTANT_GITHUB_TOKEN)');
    const repo = github.repos[args.service];
    if (!repo) {
      const known = Object.keys(github.repos).sort();
      throw badArgs(`no GitHub repository is configured for service '${args.service}'${known.length ? `; configured: ${known.join(', ')}` : ''}`);
    }
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 30 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const perPage = Math.min(PER_PAGE_MAX, limit + 1);
    const base = `${github.apiUrl.replace(/\/+$/, '')}/repos/${repo.split('/').map(encodeURIComponent).join('/')}`;

    const [commitPage, pullPage] = await Promise.all([
      get<GitHubCommit[]>(
        ctx,
        github,
        repo,
        `${base}/commits?${new URLSearchParams({ since: isoTime(range.from), until: isoTime(range.to), per_page: String(perPage) })}`,
      ),
      get<GitHubPull[]>(
        ctx,
        github,
        repo,
        `${base}/pulls?${new URLSearchParams({ state: 'closed', sort: 'updated', direction: 'desc', per_page: String(PER_PAGE_MAX) })}`,
      ),
    ]);
    const merged = pullPage
      .filter((p) => p.merged_at && Date.parse(p.merged_at) >= range.from && Date.parse(p.merged_at) <= range.to)
      .sort((a, b) => Date.parse(b.merged_at!) - Date.parse(a.merged_at!));
    // Both lists share the row limit: pull requests (fewer, and each says why) take up to half, commits the rest.
    const pulls = merged.slice(0, Math.ceil(limit / 2)).map((p) => ({
      number: p.number,
      ref: refs.pull(p.number),
      title: freeText(p.title ?? '', 200),
      author: p.user?.login ?? null,
      merged_at: isoTimeShort(Date.parse(p.merged_at!)),
      base: p.base?.ref ?? null,
      merge_commit: p.merge_commit_sha ?? null,
      url: p.html_url ?? null,
    }));
    const commits = commitPage.slice(0, limit - pulls.length).map((c) => {
      const date = c.commit?.committer?.date ?? c.commit?.author?.date;
      return {
        sha: c.sha,
        ref: refs.commit(c.sha),
        // The first line: the rest of a message is detail, and free text.
        message: freeText((c.commit?.message ?? '').split('\n')[0] ?? '', 200),
        author: c.author?.login ?? c.commit?.author?.name ?? null,
        at: date ? isoTimeShort(Date.parse(date)) : null,
        url: c.html_url ?? null,
      };
    });
    const truncated = merged.length > pulls.length || commitPage.length > commits.length;
    return {
      data: { service: args.service, repository: repo, ...showRange(range), pull_requests: pulls, commits },
      rows: pulls.length + commits.length,
      truncated,
      evidence: [
        ...pulls.map((p) => ({ ref: p.ref, label: `${repo} #${p.number} merged ${p.merged_at}${p.author ? ` by ${p.author}` : ''}: ${p.title}` })),
        ...commits.map((c) => ({
          ref: c.ref,
          label: `${repo} ${c.sha.slice(0, 7)}${c.at ? ` ${c.at}` : ''}${c.author ? ` by ${c.author}` : ''}: ${c.message}`,
        })),
      ],
    };
  },
});

/** One GitHub GET as JSON, its failures said plainly (the token never appears in them). */
async function get<T>(ctx: ToolContext, github: GitHubAccess, repo: string, url: string): Promise<T> {
  let response: Awaited<ReturnType<GitHubAccess['fetch']>>;
  try {
    response = await github.fetch(url, {
      headers: {
        Authorization: `Bearer ${github.token}`,
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'autopilot-assistant',
      },
      signal: ctx.signal,
    });
  } catch (err) {
    throw new Error(`could not reach GitHub at ${github.apiUrl}: ${describeError(err)}`);
  }
  const text = await response.text();
  if (response.status === 401) throw new Error('GitHub refused the token (401 Unauthorized): check ASSISTANT_GITHUB_TOKEN');
  if (response.status === 403 || response.status === 429) {
    throw new Error(`GitHub answered ${response.status} for ${repo}: rate limited, or the token may not read this repository (${githubMessage(text)})`);
  }
  if (response.status === 404) throw new Error(`GitHub has no repository ${repo} (404), or the token cannot see it`);
  if (response.status < 200 || response.status >= 300) throw new Error(`GitHub answered ${response.status} for ${repo}: ${githubMessage(text)}`);
  try {
    const body = JSON.parse(text) as unknown;
    if (!Array.isArray(body)) throw new Error('not a list');
    return body as T;
  } catch (err) {
    throw new Error(`GitHub's answer for ${repo} is not a JSON list: ${describeError(err)}`);
  }
}

/** GitHub's own `message` from an error body, else the body's start. */
function githubMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return freeText(message, 200);
  } catch {
    // not JSON: the text itself
  }
  return freeText(text, 200) || 'no details';
}
