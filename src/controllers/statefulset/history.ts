// ControllerRevision helpers shared by the StatefulSet and DaemonSet controllers
// (pkg/controller/history and the controllers' getPatch): a revision's data is a strategic
// merge patch that replaces spec.template, `{"spec":{"template":{"$patch":"replace",…}}}`,
// which is exactly what `kubectl rollout undo` PATCHes back onto the owner.
import type { KObject } from '../../api/types.js';
import { safeEncodeString } from '../deployment/util.js';
import { stableStringify } from '../replicaset.js';

/** Label on pods and revisions (apps.ControllerRevisionHashLabelKey). */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

export function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * getPatch: the owner's template as a replace patch. Upstream marshals a map (sorted keys) of
 * the Go object, whose template metadata carries `creationTimestamp: null`; so does this.
 */
export function templatePatch(owner: KObject): Record<string, unknown> {
  const tmpl = structuredClone(owner.spec?.template ?? {});
  tmpl.metadata = { creationTimestamp: null, ...(tmpl.metadata ?? {}) };
  if (tmpl.metadata.creationTimestamp === undefined) tmpl.metadata.creationTimestamp = null;
  tmpl['$patch'] = 'replace';
  return JSON.parse(stableStringify({ spec: { template: tmpl } }));
}

/** The pod template a revision records (ApplyRevision's effect on spec.template). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function templateOfRevision(rev: KObject): any {
  const t = structuredClone(rev['data']?.spec?.template ?? {});
  delete t['$patch'];
  if (t.metadata && t.metadata.creationTimestamp === null) delete t.metadata.creationTimestamp;
  return t;
}

/** history.HashControllerRevision: FNV-32a of the data plus collisionCount (4 LE bytes). */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(stableStringify(data), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

/** history.ControllerRevisionName: the prefix is cut to 223 characters. */
export function controllerRevisionName(prefix: string, hash: string): string {
  if (prefix.length > 223) prefix = prefix.slice(0, 223);
  return `${prefix}-${hash}`;
}

/** Templates compare equal when their canonical forms do (nulls count as absent). */
export function sameData(a: unknown, b: unknown): boolean {
  return stableStringify(a ?? {}, true) === stableStringify(b ?? {}, true);
}

/** history.EqualRevision: equal data (a differing hash label short-circuits). */
export function equalRevision(a: KObject | undefined, b: KObject | undefined): boolean {
  if (!a || !b) return a === b;
  return sameData(a['data'], b['data']);
}

export const revisionNumber = (r: KObject): number => (typeof r['revision'] === 'number' ? r['revision'] : Number(r['revision'] ?? 0) || 0);

/** history.SortControllerRevisions: by revision, then creation time, then name. */
export function sortRevisions(revs: KObject[]): KObject[] {
  return revs.sort((a, b) => {
    const d = revisionNumber(a) - revisionNumber(b);
    if (d) return d;
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return ta - tb;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  });
}

export function maxRevision(revs: KObject[]): number {
  let m = 0;
  for (const r of revs) m = Math.max(m, revisionNumber(r));
  return m;
}
