import type { Action } from '../../../tenant-config/actions.ts';
import { apiUrl, type BuildContext, fill, type OutgoingRequest, UnusableAction } from './request.ts';

type KubernetesAction = Extract<Action, { kind: 'kubernetes' }>;

/**
 * Restarts or scales a Deployment through the API server's REST API, as
 * kubectl does:
 * - restart (`kubectl rollout restart`): a strategic merge patch of the pod
 *   template's `kubectl.kubernetes.io/restartedAt` annotation to the time
 *   now (RFC 3339, seconds, as kubectl writes it); the changed template
 *   makes the controller roll every pod.
 * - scale (`kubectl scale`): a merge patch of the `scale` subresource's
 *   `spec.replicas`.
 * A bearer token (a ServiceAccount's, allowed to patch deployments and
 * deployments/scale in the namespace) is sent when set. Any 2xx is done.
 *
 * Out of scope: an API server whose HTTPS certificate is signed by a private
 * CA (most clusters' own CA) per action, and client certificates. The
 * guarded client trusts Node's CAs, plus whatever NODE_EXTRA_CA_CERTS adds
 * for the whole process; otherwise reach the server through a proxy with a
 * trusted certificate (or `kubectl proxy --address` on a private address)
 * until actions can carry a CA bundle.
 */
export function kubernetesRequest(a: KubernetesAction, { vars, secrets, now }: BuildContext): OutgoingRequest {
  const namespace = fill(a.namespace, vars);
  const deployment = fill(a.deployment, vars);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (secrets.token !== undefined) headers.authorization = `Bearer ${secrets.token}`;
  const deploymentUrl = apiUrl(a.api_url)`/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`;

  if (a.operation === 'restart') {
    const restartedAt = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      method: 'PATCH',
      url: deploymentUrl,
      headers: { ...headers, 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } }),
    };
  }
  // parseAction refuses a scale without replicas; a row that has none anyway is not run with a guess.
  if (a.replicas === undefined) throw new UnusableAction('a scale action needs replicas');
  return {
    method: 'PATCH',
    url: `${deploymentUrl}/scale`,
    headers: { ...headers, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas: a.replicas } }),
  };
}
