// The set of served resources, indexed for request routing. Built from ResourceDecls;
// custom resources will be added and removed at run time through the same methods.
import type { ResourceDecl } from '../api/types.js';

export interface ServedResource {
  decl: ResourceDecl;
  /** The version this entry serves (one entry per served version). */
  version: string;
  /** The declaration whose keys and strategy hold the objects: decl itself, or decl.storedAs's. */
  storage: ResourceDecl;
}

export class ResourceTable {
  private byGVR = new Map<string, ServedResource>();
  private decls: ResourceDecl[] = [];
  private listeners: (() => void)[] = [];

  constructor(decls: ResourceDecl[] = []) {
    for (const d of decls) this.add(d);
  }

  add(decl: ResourceDecl): void {
    this.decls.push(decl);
    for (const v of servedVersions(decl)) {
      const entry: ServedResource = { decl, version: v, storage: decl };
      if (decl.storedAs) {
        const { group, version, plural } = decl.storedAs;
        // Resolved on use: the storage resource may be declared after this one.
        Object.defineProperty(entry, 'storage', {
          get: () => {
            const target = this.byGVR.get(`${group}/${version}/${plural}`);
            if (!target) throw new Error(`${decl.plural}.${decl.group} is stored as ${plural}.${group}/${version}, which is not served`);
            return target.decl;
          },
        });
      }
      this.byGVR.set(`${decl.group}/${v}/${decl.plural}`, entry);
    }
    for (const l of this.listeners) l();
  }

  remove(decl: ResourceDecl): void {
    this.decls = this.decls.filter((d) => d !== decl);
    for (const v of servedVersions(decl)) this.byGVR.delete(`${decl.group}/${v}/${decl.plural}`);
    for (const l of this.listeners) l();
  }

  lookup(group: string, version: string, plural: string): ServedResource | undefined {
    return this.byGVR.get(`${group}/${version}/${plural}`);
  }

  /** Every declaration (one per resource, not per version). */
  all(): readonly ResourceDecl[] {
    return this.decls;
  }

  /** Is there any resource served at this group/version? */
  hasGroupVersion(group: string, version: string): boolean {
    return this.decls.some((d) => d.group === group && servedVersions(d).includes(version));
  }

  hasGroup(group: string): boolean {
    return this.decls.some((d) => d.group === group);
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }
}

export function servedVersions(decl: ResourceDecl): string[] {
  return decl.versions ?? [decl.version];
}

/** Storage key prefix for a resource: /registry/<group|core>/<plural>/ */
export function resourcePrefix(decl: ResourceDecl): string {
  return `/registry/${decl.group || 'core'}/${decl.plural}/`;
}

export function objectKey(decl: ResourceDecl, namespace: string, name: string): string {
  return decl.namespaced ? `${resourcePrefix(decl)}${namespace}/${name}` : `${resourcePrefix(decl)}${name}`;
}

/** Prefix for a list: a namespace's objects, or all of them. */
export function listPrefix(decl: ResourceDecl, namespace: string): string {
  return decl.namespaced && namespace ? `${resourcePrefix(decl)}${namespace}/` : resourcePrefix(decl);
}
