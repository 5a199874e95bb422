// storage.k8s.io/v1: storageclasses (pkg/apis/storage/v1/defaults.go, pkg/apis/storage/validation).
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required } from '../validation/field.js';
import { isQualifiedName } from '../validation/names.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col, deepEqual, immutable, setDefault } from './common.js';

export const IsDefaultStorageClassAnnotation = 'storageclass.kubernetes.io/is-default-class';
export const BetaIsDefaultStorageClassAnnotation = 'storageclass.beta.kubernetes.io/is-default-class';

/** storageutil.IsDefaultAnnotation: either annotation set to "true". */
export function isDefaultClass(obj: KObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return a[IsDefaultStorageClassAnnotation] === 'true' || a[BetaIsDefaultStorageClassAnnotation] === 'true';
}

export const storageclasses: ResourceDecl = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  namespaced: false,
  generation: false,
  printer: {
    columns: [
      NAME,
      col('Provisioner', 'provisioner indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
      col('VolumeBindingMode', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.'),
      col('AllowVolumeExpansion', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
      AGE,
    ],
    cells(obj, now) {
      return [
        isDefaultClass(obj) ? `${obj.metadata.name} (default)` : obj.metadata.name,
        obj.provisioner ?? '',
        obj.reclaimPolicy ?? 'Delete',
        obj.volumeBindingMode ?? 'Immediate',
        obj.allowVolumeExpansion ?? false,
        age(obj.metadata.creationTimestamp, now),
      ];
    },
  },
  strategy: {
    defaults(obj) {
      setDefault(obj, 'reclaimPolicy', 'Delete');
      setDefault(obj, 'volumeBindingMode', 'Immediate');
    },
    validate(obj) {
      const errs: FieldError[] = [];
      if (!obj.provisioner) errs.push(required('provisioner', ''));
      else {
        for (const m of isQualifiedName(String(obj.provisioner).toLowerCase())) errs.push(invalid('provisioner', obj.provisioner, m));
        if (String(obj.provisioner).length > 63) errs.push(invalid('provisioner', obj.provisioner, 'must be no more than 63 characters'));
      }
      if (obj.reclaimPolicy != null && obj.reclaimPolicy !== 'Delete' && obj.reclaimPolicy !== 'Retain') {
        errs.push(notSupported('reclaimPolicy', obj.reclaimPolicy, ['Delete', 'Retain']));
      }
      if (obj.volumeBindingMode != null && obj.volumeBindingMode !== 'Immediate' && obj.volumeBindingMode !== 'WaitForFirstConsumer') {
        errs.push(notSupported('volumeBindingMode', obj.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
      }
      const params = obj.parameters ?? {};
      if (Object.keys(params).length > 512) errs.push(invalid('parameters', '', 'may not have more than 512 parameters'));
      for (const k of Object.keys(params)) if (!k) errs.push(invalid('parameters', '', 'parameter names must not be empty'));
      return errs;
    },
    validateUpdate(obj, old) {
      const errs: FieldError[] = [];
      if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
      if (obj.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
      if (obj.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
      errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
      return errs;
    },
  },
};

export const storageResources: ResourceDecl[] = [storageclasses];
