// pods/exec (and the helpers pods/attach, pods/portforward and pods/log share): find the pod
// and its node, check the container, and proxy the upgraded connection (WebSocket or SPDY)
// to the node's kubelet, which terminates the protocol (src/kubelet/server).
import type { KObject } from '../../api/types.js';
import type { ApiServer, UpgradeHandler } from '../apiserver.js';
import { ApiError, badRequest } from '../errors.js';
import { proxyUpgrade } from '../../kubelet/server/client.js';
import { SIMULATED_ANNOTATION } from '../../kubelet/simulated/node.js';

export interface PodContainers {
  containers: string[];
  initContainers: string[];
  ephemeralContainers: string[];
}

export function podContainers(pod: KObject): PodContainers {
  const names = (l: unknown) => ((l as { name: string }[] | undefined) ?? []).map((c) => c.name);
  return { containers: names(pod.spec?.containers), initContainers: names(pod.spec?.initContainers), ephemeralContainers: names(pod.spec?.ephemeralContainers) };
}

/** The container a request names, or the only one; upstream's messages otherwise. */
export function resolveContainer(pod: KObject, container: string | null): string {
  const c = podContainers(pod);
  const name = pod.metadata.name!;
  if (!container) {
    if (c.containers.length === 1) return c.containers[0]!;
    let msg = `a container name must be specified for pod ${name}, choose one of: [${c.containers.join(' ')}]`;
    if (c.initContainers.length) msg += ` or one of the init containers: [${c.initContainers.join(' ')}]`;
    if (c.ephemeralContainers.length) msg += ` or one of the ephemeral containers: [${c.ephemeralContainers.join(' ')}]`;
    throw badRequest(msg);
  }
  if (![...c.containers, ...c.initContainers, ...c.ephemeralContainers].includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  }
  return container;
}

export async function getPod(api: ApiServer, namespace: string, name: string): Promise<KObject> {
  const served = api.resources.lookup('', 'v1', 'pods')!;
  return api.registry.get(served.decl, namespace, name);
}

/** The Node object the pod runs on; errors as upstream's when there is none. */
export async function podNode(api: ApiServer, pod: KObject): Promise<KObject> {
  const nodeName = pod.spec?.nodeName as string | undefined;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const served = api.resources.lookup('', 'v1', 'nodes')!;
  let node: KObject;
  try {
    node = await api.registry.get(served.decl, '', nodeName);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new ApiError(500, '', `nodes "${nodeName}" not found`);
    throw e;
  }
  // A simulated node (--simulated-nodes) has a made-up address and no kubelet: say so rather
  // than dial it (which would time out, or reach whatever owns that address).
  if (node.metadata.annotations?.[SIMULATED_ANNOTATION] === 'true') {
    throw badRequest(`pod ${pod.metadata.name} runs on simulated node ${nodeName}, which has no kubelet: logs, exec, attach and port-forward are not available`);
  }
  return node;
}

/** Requests that reach pods/exec without an upgrade (HTTP/2, plain POST). */
export function upgradeRequired(): never {
  throw badRequest('Upgrade request required');
}

function streamQuery(q: URLSearchParams, withCommand: boolean): URLSearchParams {
  const out = new URLSearchParams();
  if (withCommand) for (const c of q.getAll('command')) out.append('command', c);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty']) {
    const v = q.get(k);
    if (v !== null) out.set(k, v);
  }
  // Defaults as upstream's PodExecOptions: stdout and stderr unless said otherwise.
  if (!out.has('stdout')) out.set('stdout', 'true');
  if (!out.has('stderr')) out.set('stderr', 'true');
  return out;
}

export function remoteCommandHandler(api: ApiServer, kind: 'exec' | 'attach'): UpgradeHandler {
  return async (info, req, socket, head) => {
    const pod = await getPod(api, info.namespace, info.name);
    const container = resolveContainer(pod, req.query.get('container'));
    if (kind === 'exec' && req.query.getAll('command').length === 0) throw badRequest('you must specify at least 1 command');
    const node = await podNode(api, pod);
    const path = `/${kind}/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}`;
    try {
      await proxyUpgrade(api, node, path, streamQuery(req.query, kind === 'exec'), req.raw, socket, head);
    } catch (e) {
      throw new ApiError(500, '', (e as Error).message);
    }
  };
}

export function registerExec(api: ApiServer): void {
  api.registerUpgradeHandler('', 'pods', 'exec', remoteCommandHandler(api, 'exec'));
  api.registerSubresource('', 'pods', 'exec', async () => upgradeRequired());
}
