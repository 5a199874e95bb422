// coordination.k8s.io/v1: leases (node heartbeats, leader election).
import type { FieldError, ResourceDecl } from '../types.js';
import { invalid, notSupported } from '../validation/field.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col, nonNegative } from './common.js';

export const leases: ResourceDecl = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  generation: false,
  printer: {
    columns: [NAME, col('Holder', 'holderIdentity contains the identity of the holder of a current lease.'), AGE],
    cells(obj, now) {
      return [obj.metadata.name, obj.spec?.holderIdentity ?? '', age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      if (spec.leaseDurationSeconds != null && !(spec.leaseDurationSeconds > 0)) {
        errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
      }
      errs.push(...nonNegative(spec.leaseTransitions, 'spec.leaseTransitions'));
      if (spec.strategy != null && spec.strategy !== 'OldestEmulationVersion') errs.push(notSupported('spec.strategy', spec.strategy, ['OldestEmulationVersion']));
      return errs;
    },
  },
};

export const coordinationResources: ResourceDecl[] = [leases];
