// Subresources beyond status and scale that the core API has from the start.
import type { ApiServer } from '../apiserver/apiserver.js';
import { badRequest, methodNotSupported } from '../apiserver/errors.js';
import { decodeBody, negotiateOutput } from '../apiserver/negotiation.js';
import { respondObject } from '../apiserver/handlers/resource.js';
import { registerBinding } from '../apiserver/subresources/binding.js';
import { registerEviction } from '../apiserver/subresources/eviction.js';
import { registerReviews } from '../apiserver/subresources/reviews.js';
import { registerToken } from '../apiserver/subresources/token.js';
import { registerLog } from '../apiserver/subresources/log.js';
import { registerExec } from '../apiserver/subresources/exec.js';
import { registerAttach } from '../apiserver/subresources/attach.js';
import { registerPortForward } from '../apiserver/subresources/portforward.js';
import { registerNodeProxy } from '../apiserver/subresources/nodeproxy.js';

export function registerCoreSubresources(api: ApiServer): void {
  registerBinding(api);
  registerEviction(api);
  registerReviews(api);
  registerToken(api);
  // pods/log, exec, attach, portforward: proxied to the pod's kubelet (src/kubelet/server).
  registerLog(api);
  registerExec(api);
  registerAttach(api);
  registerPortForward(api);
  // nodes/proxy: GETs to the node's kubelet (/stats/summary, /metrics/resource, /healthz …).
  registerNodeProxy(api);
  // namespaces/finalize: the only way to change spec.finalizers (the namespace controller uses it).
  api.registerSubresource('', 'namespaces', 'finalize', async (info, req) => {
    if (info.verb !== 'update') throw methodNotSupported({ group: '', resource: 'namespaces/finalize' }, info.verb);
    const served = api.resources.lookup('', 'v1', 'namespaces')!;
    const body = (req.bodyObject ?? decodeBody(req.body, req.headers['content-type'])) as { spec?: { finalizers?: unknown } };
    const finalizers = body?.spec?.finalizers ?? [];
    if (!Array.isArray(finalizers)) throw badRequest('spec.finalizers must be a list');
    const { obj } = await api.registry.update(
      served.decl,
      '',
      info.name,
      (cur) => ({ ...cur, spec: { ...(cur.spec ?? {}), finalizers } }),
      { user: req.user },
      { subresource: 'finalize' },
    );
    return respondObject(api, served, obj, negotiateOutput(req.headers['accept']), req.query);
  });
}
