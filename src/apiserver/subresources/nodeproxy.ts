// nodes/proxy: /api/v1/nodes/<node>/proxy/<path> → https://<kubelet>/<path>, as the API server
// proxies to a node's kubelet (what metrics-server and `kubectl get --raw
// /api/v1/nodes/<n>/proxy/stats/summary` use). GET only: the kubelet serves nothing else
// without an upgrade (exec/attach/port-forward go through the pods' subresources).
import type { KObject } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError, methodNotSupported } from '../errors.js';
import { kubeletGet } from '../../kubelet/server/client.js';
import { SIMULATED_ANNOTATION } from '../../kubelet/simulated/node.js';

export function registerNodeProxy(api: ApiServer): void {
  api.registerSubresource('', 'nodes', 'proxy', async (info, req) => {
    if (info.verb !== 'get') throw methodNotSupported({ group: '', resource: 'nodes/proxy' }, info.verb);
    // "<node>:<port>" names a port on the node; the kubelet's is the only one served here
    const name = info.name.replace(/:\d+$/, '');
    const served = api.resources.lookup('', 'v1', 'nodes')!;
    const node: KObject = await api.registry.get(served.decl, '', name);
    if (node.metadata.annotations?.[SIMULATED_ANNOTATION] === 'true') throw new ApiError(503, 'ServiceUnavailable', `node ${name} is simulated and has no kubelet`);
    const path = '/' + info.rest.map(encodeURIComponent).join('/');
    let res;
    try {
      res = await kubeletGet(api, node, path, req.query);
    } catch (e) {
      // kubeletGet's text is `Get "https://…": dial tcp …`; upstream shows the dial error
      throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${(e as Error).message.replace(/^Get "[^"]*": /, '')}`);
    }
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 502, contentType: String(res.headers['content-type'] ?? 'application/octet-stream'), body: Buffer.concat(chunks) };
  });
}
