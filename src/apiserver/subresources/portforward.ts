// pods/portforward: proxied to the kubelet's /portForward/<ns>/<pod>, which speaks SPDY
// (kubectl ≤1.30) or SPDY tunnelled in WebSocket (kubectl 1.31+).
import type { ApiServer } from '../apiserver.js';
import { ApiError } from '../errors.js';
import { proxyUpgrade } from '../../kubelet/server/client.js';
import { getPod, podNode, upgradeRequired } from './exec.js';

export function registerPortForward(api: ApiServer): void {
  api.registerUpgradeHandler('', 'pods', 'portforward', async (info, req, socket, head) => {
    const pod = await getPod(api, info.namespace, info.name);
    const node = await podNode(api, pod);
    const q = new URLSearchParams();
    for (const p of req.query.getAll('ports')) q.append('port', p);
    try {
      await proxyUpgrade(api, node, `/portForward/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}`, q, req.raw, socket, head);
    } catch (e) {
      throw new ApiError(500, '', (e as Error).message);
    }
  });
  api.registerSubresource('', 'pods', 'portforward', async () => upgradeRequired());
}
