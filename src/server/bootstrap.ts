// What every cluster has from its first second: the system namespaces and the
// `kubernetes` Service with Endpoints (and an EndpointSlice) pointing at the API server.
// Reconciled at every start, so an address change is picked up.
import type { KObject } from '../api/types.js';
import type { ApiServer } from '../apiserver/apiserver.js';
import { SYSTEM_USER } from '../apiserver/apiserver.js';
import { ApiError } from '../apiserver/errors.js';
import { deepEqual } from '../apiserver/registry.js';
import { SYSTEM_PRIORITY_CLASSES } from '../api/groups/scheduling.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(api: ApiServer, group: string, version: string, plural: string, namespace: string, obj: KObject, reconcile?: (cur: KObject) => KObject | undefined) {
  const served = api.resources.lookup(group, version, plural);
  if (!served) return;
  const rc = { user: SYSTEM_USER };
  try {
    const cur = await api.registry.get(served.decl, namespace, obj.metadata.name!);
    const next = reconcile?.(structuredClone(cur));
    if (next) await api.registry.update(served.decl, namespace, obj.metadata.name!, () => next, rc);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
    try {
      await api.registry.create(served.decl, namespace, obj, rc);
    } catch (e2) {
      // Another API server sharing the store got there first.
      if (!(e2 instanceof ApiError && e2.reason === 'AlreadyExists')) throw e2;
    }
  }
}

export async function bootstrap(api: ApiServer, opts: { advertiseAddress: string; securePort: number }): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(api, '', 'v1', 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  for (const pc of SYSTEM_PRIORITY_CLASSES) {
    await ensure(api, 'scheduling.k8s.io', 'v1', 'priorityclasses', '', {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: pc.name },
      value: pc.value,
      description: pc.description,
      preemptionPolicy: 'PreemptLowerPriority',
    });
  }
  const ip = api.services.kubernetesServiceIP();
  const wantPorts = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.securePort }];
  await ensure(
    api,
    '',
    'v1',
    'services',
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: ip, ports: wantPorts, sessionAffinity: 'None' },
    },
    (cur) => {
      const ports = (cur.spec?.ports ?? []).map((p: Record<string, unknown>) => ({ name: p['name'], port: p['port'], protocol: p['protocol'], targetPort: p['targetPort'] }));
      if (deepEqual(ports, wantPorts)) return undefined;
      cur.spec.ports = wantPorts;
      return cur;
    },
  );
  const subsets = [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }] }];
  await ensure(
    api,
    '',
    'v1',
    'endpoints',
    'default',
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets },
    (cur) => {
      if (deepEqual(cur.subsets, subsets)) return undefined;
      cur.subsets = subsets;
      return cur;
    },
  );
  const slice = {
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }],
  };
  await ensure(
    api,
    'discovery.k8s.io',
    'v1',
    'endpointslices',
    'default',
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      ...slice,
    },
    (cur) => {
      if (deepEqual(cur.endpoints, slice.endpoints) && deepEqual(cur.ports, slice.ports)) return undefined;
      return { ...cur, ...slice };
    },
  );
}
