// PersistentVolumeClaims: a namespaced request for storage.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Subdomain } from '../validation/names.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { quantityOf } from '../quantity.js';
import { arr, canonicalizeResourceList, clone, col, deepEqual, isObj, setDefault, str, validateEnum, validateResourceList } from './helpers.js';
import { accessModes, accessModesString, storageClassOf, validatePositiveQuantity } from './persistentvolumes.js';

function validatePVC(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  const modes = arr(spec.accessModes);
  if (modes.length === 0) errs.push(required('spec.accessModes', 'at least 1 access mode is required'));
  for (const m of modes) if (!accessModes.includes(m)) errs.push(notSupported('spec.accessModes', m, accessModes));
  const res = isObj(spec.resources) ? spec.resources : {};
  errs.push(...validateResourceList(res.requests, 'spec.resources.requests', false));
  errs.push(...validateResourceList(res.limits, 'spec.resources.limits', false));
  const storage = isObj(res.requests) ? res.requests.storage : undefined;
  if (storage === undefined) errs.push(required('spec.resources[storage]'));
  else errs.push(...validatePositiveQuantity(storage, 'spec.resources[storage]'));
  errs.push(...validateEnum(spec.volumeMode, 'spec.volumeMode', ['Block', 'Filesystem']));
  if (spec.storageClassName)
    for (const m of isDNS1123Subdomain(String(spec.storageClassName))) errs.push(invalid('spec.storageClassName', spec.storageClassName, m));
  return errs;
}

function validatePVCUpdate(o: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  // Only requests may change (expansion), and volumeName may be set once by the binder.
  const mutated = clone(spec);
  if (isObj(mutated.resources) || isObj(oldSpec.resources)) {
    mutated.resources = { ...(isObj(mutated.resources) ? mutated.resources : {}) };
    if (isObj(oldSpec.resources) && oldSpec.resources.requests !== undefined) mutated.resources.requests = oldSpec.resources.requests;
    else delete mutated.resources.requests;
  }
  if (oldSpec.volumeAttributesClassName === undefined) delete mutated.volumeAttributesClassName;
  else mutated.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  if (!oldSpec.volumeName) {
    if (oldSpec.volumeName === undefined) delete mutated.volumeName;
    else mutated.volumeName = oldSpec.volumeName;
  }
  if (!deepEqual(mutated, oldSpec))
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  const nq = quantityOf(spec.resources?.requests?.storage);
  const oq = quantityOf(oldSpec.resources?.requests?.storage);
  if (nq && oq && nq.cmp(oq) < 0 && o.status?.phase === 'Bound')
    errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  return errs;
}

export const persistentvolumeclaims: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  namespaced: true,
  nameValidation: 'dns1123Subdomain',
  subresources: { status: true },
  generation: false,
  printer: {
    columns: [
      nameColumn,
      col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      col('StorageClass', 'string', 'StorageClass of the pvc'),
      col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
      ageColumn,
      col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
    ],
    cells(o, now) {
      const spec = isObj(o.spec) ? o.spec : {};
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : str(o.status?.phase);
      let capacity = '';
      let modes = '';
      if (spec.volumeName) {
        modes = accessModesString(o.status?.accessModes);
        capacity = quantityOf(o.status?.capacity?.storage)?.toString() ?? '0';
      }
      return [
        o.metadata.name,
        phase,
        str(spec.volumeName),
        capacity,
        modes,
        storageClassOf(o),
        str(spec.volumeAttributesClassName) || '<unset>',
        age(o.metadata.creationTimestamp, now),
        str(spec.volumeMode) || '<unset>',
      ];
    },
  },
  strategy: {
    defaults(o) {
      if (!isObj(o.spec)) o.spec = {};
      setDefault(o.spec, 'volumeMode', 'Filesystem');
      if (isObj(o.spec.resources)) {
        canonicalizeResourceList(o.spec.resources.requests);
        canonicalizeResourceList(o.spec.resources.limits);
      }
    },
    prepareForCreate(o) {
      o.status = { phase: 'Pending' };
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validatePVC,
    validateUpdate: validatePVCUpdate,
  },
};
