// ComponentStatuses: read-only, filled in by the API server when asked (deprecated upstream,
// but `kubectl get cs` still works).
import type { ResourceDecl } from '../types.js';
import { nameColumn } from '../printers/util.js';
import { arr, col, isObj, str } from './helpers.js';

export const componentstatuses: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'ComponentStatus',
  plural: 'componentstatuses',
  singular: 'componentstatus',
  shortNames: ['cs'],
  namespaced: false,
  verbs: ['get', 'list'],
  deprecationWarning: 'v1 ComponentStatus is deprecated in v1.19+',
  nameValidation: 'dns1123Subdomain',
  printer: {
    columns: [
      nameColumn,
      col('Status', 'string', 'Status of the component conditions'),
      col('Message', 'string', 'Message of the component conditions'),
      col('Error', 'string', 'Error of the component conditions'),
    ],
    cells(o) {
      let status = 'Unknown';
      let message = '';
      let error = '';
      const c = arr(o.conditions).find((c) => isObj(c) && c.type === 'Healthy');
      if (c) {
        status = c.status === 'True' ? 'Healthy' : 'Unhealthy';
        message = str(c.message);
        error = str(c.error);
      }
      return [o.metadata.name, status, message, error];
    },
  },
};
