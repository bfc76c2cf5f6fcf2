import type { Action } from '../../../tenant-config/actions.ts';
import { apiUrl, type BuildContext, fill, type OutgoingRequest } from './request.ts';

type DockerAction = Extract<Action, { kind: 'docker' }>;

/**
 * Restarts a container through the Docker Engine API:
 * `POST /containers/{name}/restart?t=<seconds to stop before a kill>`.
 * The engine answers 204 when restarted, 404 for no such container, 500 on
 * its own trouble. `api_url` may name an API version (`http://host:2375/v1.47`).
 *
 * Out of scope: the engine's unix socket (the guarded client speaks TCP) and
 * TLS with client certificates (port 2376); an engine is reached on a
 * private address, or through a socket proxy that allows only restarts.
 */
export function dockerRequest(a: DockerAction, { vars }: BuildContext): OutgoingRequest {
  const container = fill(a.container, vars);
  return {
    method: 'POST',
    url: `${apiUrl(a.api_url)`/containers/${container}/restart`}?t=${a.stop_timeout}`,
    headers: {},
    body: '',
  };
}
