// NamespaceLifecycle: no new content in a missing or terminating namespace, and the
// system namespaces cannot be deleted.
import type { KObject } from '../../api/types.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import type { AdmissionAttributes, AdmissionPlugin } from './index.js';

export const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  constructor(private readonly getNamespace: (name: string) => Promise<KObject | undefined>) {}

  async validate(a: AdmissionAttributes): Promise<void> {
    if (a.decl.group === '' && a.decl.plural === 'namespaces') {
      if (a.operation === 'DELETE' && immortalNamespaces.has(a.name))
        throw forbidden({ group: '', resource: 'namespaces' }, a.name, 'this namespace may not be deleted');
      return;
    }
    if (!a.decl.namespaced || a.operation !== 'CREATE') return;
    const ns = await this.getNamespace(a.namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, a.namespace);
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      const msg = `unable to create new content in namespace ${a.namespace} because it is being terminated`;
      // Events may still be recorded in a terminating namespace, as upstream allows.
      if (a.decl.plural === 'events') return;
      throw forbidden({ group: a.decl.group, resource: a.decl.plural }, a.name, msg, [
        { reason: 'NamespaceTerminating', message: msg, field: 'metadata.namespace' },
      ]);
    }
  }
}

export function isApiError(e: unknown, reason: string): boolean {
  return e instanceof ApiError && e.reason === reason;
}
