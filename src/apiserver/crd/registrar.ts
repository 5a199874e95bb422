// Serves custom resources: watches CustomResourceDefinitions through the watch cache and
// installs (or replaces, or removes) the ResourceDecl each one defines. A definition being
// deleted has all its objects deleted first, then its cleanup finalizer removed, as
// upstream's apiextensions-apiserver does.
import type { KObject, ResourceDecl } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { SYSTEM_USER } from '../apiserver.js';
import { ApiError } from '../errors.js';
import { resourcePrefix } from '../resources.js';
import { crdToDecl } from './decl.js';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export class CRDRegistrar {
  private installed = new Map<string, ResourceDecl>();
  private sub?: { cancel(): void };
  private cleaning = new Set<string>();

  constructor(
    private readonly api: ApiServer,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {}

  private crdDecl(): ResourceDecl | undefined {
    return this.api.resources.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')?.decl;
  }

  async start(): Promise<void> {
    const decl = this.crdDecl();
    if (!decl) return;
    const list = await this.api.registry.list(decl, '');
    for (const crd of list.items) this.apply(crd);
    this.sub = this.api.cache.subscribe(resourcePrefix(decl), Number(list.resourceVersion), {
      onEvent: (ev) => {
        if (ev.type === 'DELETE') this.remove(ev.object().metadata.name!);
        else this.apply(ev.object());
      },
      onError: (err) => {
        this.log('custom resource definition watch ended; restarting', { error: err.message });
        this.sub = undefined;
        setTimeout(() => void this.start().catch(() => {}), 1000).unref();
      },
    });
  }

  stop(): void {
    this.sub?.cancel();
  }

  private apply(crd: KObject): void {
    const name = crd.metadata.name!;
    let decl: ResourceDecl;
    try {
      decl = crdToDecl(crd);
    } catch (e) {
      this.log('cannot serve custom resource definition', { name, error: (e as Error).message });
      return;
    }
    // Never shadow a built-in resource.
    const clash = this.api.resources.lookup(decl.group, decl.version, decl.plural);
    if (clash && clash.decl !== this.installed.get(name)) {
      this.log('custom resource definition clashes with a served resource', { name });
      return;
    }
    const old = this.installed.get(name);
    if (old) this.api.resources.remove(old);
    this.api.resources.add(decl);
    this.installed.set(name, decl);
    if (crd.metadata.deletionTimestamp && (crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) void this.cleanup(crd, decl);
  }

  private remove(name: string): void {
    const old = this.installed.get(name);
    if (old) this.api.resources.remove(old);
    this.installed.delete(name);
  }

  /** Deletes every object of a terminating definition, then releases the definition. */
  private async cleanup(crd: KObject, decl: ResourceDecl): Promise<void> {
    const name = crd.metadata.name!;
    if (this.cleaning.has(name)) return;
    this.cleaning.add(name);
    const rc = { user: SYSTEM_USER };
    try {
      for (let round = 0; round < 100; round++) {
        const list = await this.api.registry.list(decl, '');
        if (list.items.length === 0) break;
        for (const o of list.items) {
          try {
            // Finalizers on custom resources are the user's: a stuck one keeps the CRD Terminating, as upstream.
            await this.api.registry.delete(decl, o.metadata.namespace ?? '', o.metadata.name!, {}, rc);
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
        const left = await this.api.registry.list(decl, '');
        if (left.items.length === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const crdDecl = this.crdDecl()!;
      await this.api.registry.update(
        crdDecl,
        '',
        name,
        (cur) => {
          cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
          if (cur.metadata.finalizers.length === 0) delete cur.metadata.finalizers;
          return cur;
        },
        rc,
        { subresource: 'finalizers' },
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) this.log('custom resource cleanup failed', { name, error: (e as Error).message });
    } finally {
      this.cleaning.delete(name);
    }
  }
}
