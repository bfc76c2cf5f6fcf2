import type { Action } from '../../../tenant-config/actions.ts';
import { apiUrl, type BuildContext, fill, fillAll, type OutgoingRequest, UnusableAction } from './request.ts';

type GithubWorkflowAction = Extract<Action, { kind: 'github_workflow' }>;

/**
 * Dispatches a workflow run through GitHub's REST API ("Create a workflow
 * dispatch event"): `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`
 * with `{ref, inputs}`. GitHub answers 204 No Content when the event was
 * created, and that alone counts as done: the run itself starts later and
 * is not followed here (a rollback's effect is judged by the incident
 * resolving). The token needs `actions:write` (a fine-grained token or a
 * GitHub App) or the `repo` scope (a classic token).
 */
export function githubWorkflowRequest(a: GithubWorkflowAction, { vars, secrets }: BuildContext): OutgoingRequest {
  if (secrets.token === undefined) throw new UnusableAction('the GitHub API needs a token, and this action has none');
  const [owner = '', repo = ''] = a.repo.split('/');
  const body: { ref: string; inputs?: Record<string, string> } = { ref: fill(a.ref, vars) };
  if (a.inputs) body.inputs = fillAll(a.inputs, vars);
  return {
    method: 'POST',
    url: apiUrl(a.api_url)`/repos/${owner}/${repo}/actions/workflows/${a.workflow}/dispatches`,
    headers: {
      authorization: `Bearer ${secrets.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
    expectStatus: 204,
  };
}
