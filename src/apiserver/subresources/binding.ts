// pods/binding: how the scheduler assigns a pod to a node. Sets spec.nodeName and the
// PodScheduled condition in one write; a pod that already has a node is a Conflict.
import type { KObject } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { badRequest, conflict, methodNotSupported } from '../errors.js';
import { decodeBody } from '../negotiation.js';
import { successStatus } from '../errors.js';
import { timestamp } from '../registry.js';
import { isDryRun } from '../handlers/resource.js';

export function registerBinding(api: ApiServer): void {
  api.registerSubresource('', 'pods', 'binding', async (info, req) => {
    if (info.verb !== 'create') throw methodNotSupported({ group: '', resource: 'pods/binding' }, info.verb);
    const served = api.resources.lookup('', 'v1', 'pods')!;
    const body = (req.bodyObject ?? decodeBody(req.body, req.headers['content-type'])) as KObject;
    const target = body?.target as { kind?: string; name?: string } | undefined;
    if (!target?.name) throw badRequest('Binding.target.name is required');
    if (target.kind && target.kind !== 'Node') throw badRequest(`Binding.target.kind must be Node, not ${target.kind}`);
    if (body.metadata?.name && body.metadata.name !== info.name) throw badRequest('the name of the object does not match the name on the URL');
    const now = timestamp(api.clock.now());
    await api.registry.update(
      served.decl,
      info.namespace,
      info.name,
      (pod) => {
        if (body.metadata?.uid && body.metadata.uid !== pod.metadata.uid)
          throw conflict({ group: '', resource: 'pods' }, info.name, `Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
        if (pod.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods' }, info.name, 'pod is being deleted, cannot be assigned to a host');
        if (pod.spec?.nodeName) throw conflict({ group: '', resource: 'pods' }, info.name, `pod ${info.name} is already assigned to node "${pod.spec.nodeName}"`);
        pod.spec.nodeName = target.name;
        if (body.metadata?.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...body.metadata.annotations };
        const conditions = (pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
        conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
        pod.status = { ...(pod.status ?? {}), conditions };
        return pod;
      },
      { user: req.user, dryRun: isDryRun(req.query) },
      { subresource: 'binding' },
    );
    return { status: 201, body: { ...successStatus(), code: 201 } };
  });
}
