// PersistentVolumes: cluster-scoped storage, bound to claims by the PV controller.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Subdomain } from '../validation/names.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { quantityOf } from '../quantity.js';
import { arr, canonicalizeResourceList, col, deepEqual, immutable, isObj, setDefault, str, validateEnum, validateResourceList } from './helpers.js';

export const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const accessModeAbbrev: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

/** GetAccessModesAsString: "RWO,ROX", in that fixed order. */
export function accessModesString(modes: unknown): string {
  const set = new Set(arr<string>(modes));
  return accessModeAbbrev.filter(([m]) => set.has(m)).map(([, a]) => a).join(',');
}

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';
export function storageClassOf(o: KObject): string {
  const a = o.metadata.annotations?.[betaStorageClassAnnotation];
  if (a !== undefined) return a;
  return str(o.spec?.storageClassName);
}

const pvSourceKeys = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder',
  'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk',
  'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi',
];

export function validatePositiveQuantity(v: unknown, field: string): FieldError[] {
  const q = quantityOf(v);
  if (!q) return [];
  return q.sign() <= 0 ? [invalid(field, q.toString(), 'must be greater than zero')] : [];
}

function validatePV(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  const modes = arr(spec.accessModes);
  if (modes.length === 0) errs.push(required('spec.accessModes'));
  for (const m of modes) if (!accessModes.includes(m)) errs.push(notSupported('spec.accessModes', m, accessModes));
  const cap = isObj(spec.capacity) ? spec.capacity : {};
  if (Object.keys(cap).length === 0) errs.push(required('spec.capacity'));
  if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(notSupported('spec.capacity', cap, ['storage']));
  errs.push(...validateResourceList(cap, 'spec.capacity', false));
  for (const [k, v] of Object.entries(cap)) errs.push(...validatePositiveQuantity(v, `spec.capacity[${k}]`));
  errs.push(...validateEnum(spec.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', ['Delete', 'Recycle', 'Retain']));
  errs.push(...validateEnum(spec.volumeMode, 'spec.volumeMode', ['Block', 'Filesystem']));
  const set = pvSourceKeys.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (set.length === 0) errs.push(required('spec', 'must specify a volume type'));
  for (const k of set.slice(1)) errs.push(forbidden(`spec.${k}`, 'may not specify more than 1 volume type'));
  if (isObj(spec.hostPath) && !spec.hostPath.path) errs.push(required('spec.hostPath.path'));
  if (isObj(spec.local) && !spec.local.path) errs.push(required('spec.local.path'));
  if (isObj(spec.local) && !isObj(spec.nodeAffinity)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  if (isObj(spec.nfs)) {
    if (!spec.nfs.server) errs.push(required('spec.nfs.server'));
    if (!spec.nfs.path) errs.push(required('spec.nfs.path'));
  }
  if (isObj(spec.csi)) {
    if (!spec.csi.driver) errs.push(required('spec.csi.driver'));
    if (!spec.csi.volumeHandle) errs.push(required('spec.csi.volumeHandle'));
  }
  if (spec.storageClassName)
    for (const m of isDNS1123Subdomain(String(spec.storageClassName))) errs.push(invalid('spec.storageClassName', spec.storageClassName, m));
  return errs;
}

function validatePVUpdate(o: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const src = (x: KObject) => Object.fromEntries(pvSourceKeys.filter((k) => x.spec?.[k] !== undefined).map((k) => [k, x.spec[k]]));
  if (!deepEqual(src(o), src(old))) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  errs.push(...immutable(o.spec?.volumeMode, old.spec?.volumeMode, 'spec.volumeMode'));
  if (old.spec?.nodeAffinity !== undefined) errs.push(...immutable(o.spec?.nodeAffinity, old.spec.nodeAffinity, 'spec.nodeAffinity'));
  return errs;
}

export const persistentvolumes: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  namespaced: false,
  nameValidation: 'dns1123Subdomain',
  subresources: { status: true },
  generation: false,
  printer: {
    columns: [
      nameColumn,
      col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
      col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'string', 'StorageClass of the pv'),
      col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
      col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      ageColumn,
      col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
    ],
    cells(o, now) {
      const spec = isObj(o.spec) ? o.spec : {};
      const claim = isObj(spec.claimRef) ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : '';
      const capacity = quantityOf(spec.capacity?.storage)?.toString() ?? '0';
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : str(o.status?.phase);
      return [
        o.metadata.name,
        capacity,
        accessModesString(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy),
        phase,
        claim,
        storageClassOf(o),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(o.status?.reason),
        age(o.metadata.creationTimestamp, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
  strategy: {
    defaults(o) {
      if (!isObj(o.spec)) o.spec = {};
      setDefault(o.spec, 'persistentVolumeReclaimPolicy', 'Retain');
      setDefault(o.spec, 'volumeMode', 'Filesystem');
      canonicalizeResourceList(o.spec.capacity);
      if (isObj(o.spec.hostPath) && o.spec.hostPath.type === undefined) o.spec.hostPath.type = '';
    },
    prepareForCreate(o, ctx) {
      o.status = { phase: 'Pending', lastPhaseTransitionTime: ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validatePV,
    validateUpdate: validatePVUpdate,
  },
};
