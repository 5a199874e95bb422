// Nodes: cluster-scoped; the kubelet registers them and reports their status.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { duplicate, forbidden, invalid, required } from '../validation/field.js';
import { isQualifiedName, isValidLabelValue } from '../validation/names.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { arr, canonicalizeResourceList, col, isObj, str, validateEnum, validateResourceList } from './helpers.js';

const labelNodeRolePrefix = 'node-role.kubernetes.io/';
const nodeLabelRole = 'kubernetes.io/role';

/** Roles from node-role.kubernetes.io/<role> and kubernetes.io/role=<role> labels, sorted. */
export function findNodeRoles(node: KObject): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(labelNodeRolePrefix)) {
      const role = k.slice(labelNodeRolePrefix.length);
      if (role) roles.add(role);
    } else if (k === nodeLabelRole && v) roles.add(v);
  }
  return [...roles].sort();
}

/** "Ready", "NotReady", "Unknown", plus ",SchedulingDisabled" for cordoned nodes. */
export function nodeStatus(node: KObject): string {
  const status: string[] = [];
  const ready = arr(node.status?.conditions).find((c) => isObj(c) && c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

const nodeAddress = (node: KObject, type: string) =>
  str(arr(node.status?.addresses).find((a) => isObj(a) && a.type === type)?.address) || '<none>';

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateNode(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  const seen = new Set<string>();
  arr(spec.taints).forEach((t, i) => {
    const f = `spec.taints[${i}]`;
    if (!isObj(t)) return;
    if (!t.key) errs.push(required(`${f}.key`));
    else for (const m of isQualifiedName(String(t.key))) errs.push(invalid(`${f}.key`, t.key, m));
    if (t.value) for (const m of isValidLabelValue(String(t.value))) errs.push(invalid(`${f}.value`, t.value, m));
    errs.push(...validateEnum(t.effect, `${f}.effect`, taintEffects, true));
    const key = `${t.key}:${t.effect}`;
    if (seen.has(key)) errs.push(duplicate(f, t));
    seen.add(key);
  });
  errs.push(...validateResourceList(o.status?.capacity, 'status.capacity', false));
  errs.push(...validateResourceList(o.status?.allocatable, 'status.allocatable', false));
  return errs;
}

function validateNodeUpdate(o: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const oldCIDRs = arr(old.spec?.podCIDRs);
  if (oldCIDRs.length > 0 && JSON.stringify(arr(o.spec?.podCIDRs)) !== JSON.stringify(oldCIDRs))
    errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  if (old.spec?.providerID && o.spec?.providerID !== old.spec.providerID)
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

export const nodes: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  nameValidation: 'dns1123Subdomain',
  subresources: { status: true, proxy: true },
  keepStatusOnCreate: true,
  generation: false,
  fieldSelectors: {
    'spec.unschedulable': (o) => String(o.spec?.unschedulable === true),
  },
  printer: {
    columns: [
      nameColumn,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      ageColumn,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    cells(o, now) {
      const info = isObj(o.status?.nodeInfo) ? o.status.nodeInfo : {};
      return [
        o.metadata.name,
        nodeStatus(o),
        findNodeRoles(o).join(',') || '<none>',
        age(o.metadata.creationTimestamp, now),
        str(info.kubeletVersion),
        nodeAddress(o, 'InternalIP'),
        nodeAddress(o, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ];
    },
  },
  strategy: {
    defaults(o) {
      // SetDefaults_NodeStatus: allocatable defaults to capacity.
      if (isObj(o.status)) {
        canonicalizeResourceList(o.status.capacity);
        if (isObj(o.status.capacity) && !isObj(o.status.allocatable)) o.status.allocatable = { ...o.status.capacity };
        canonicalizeResourceList(o.status.allocatable);
      }
    },
    prepareForCreate(o) {
      if (isObj(o.spec)) delete o.spec.configSource;
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
  },
};
