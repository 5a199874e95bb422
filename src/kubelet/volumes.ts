// Pod volumes on the node: <rootDir>/pods/<uid>/volumes/<plugin>/<name>.
// emptyDir (disk or Memory medium), hostPath with upstream's type checks, configMap / secret /
// downwardAPI / projected through an AtomicWriter (files live in a timestamped `..<ts>` dir,
// `..data` points at it, user-visible names are symlinks through `..data`; an update writes a
// new dir and swaps `..data` with one rename, like upstream's AtomicWriter), and
// persistentVolumeClaim bound to a hostPath or local PersistentVolume.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import type { KObject } from '../api/types.js';
import { formatMap, resourceFieldValue, type EnvSources } from './env.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export class VolumeError extends Error {}

export interface FileProjection {
  data: Buffer;
  mode: number;
}

function isRegularDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes `payload` (relative path → content) into `dir` atomically. Returns true when
 * something changed.
 */
export function atomicWrite(dir: string, payload: Map<string, FileProjection>, now: Date = new Date()): boolean {
  for (const p of payload.keys()) {
    const n = normalize(p);
    if (p.startsWith('/') || n.startsWith('..') || n.split(sep).includes('..') || p.startsWith('..')) throw new VolumeError(`invalid path ${JSON.stringify(p)}: must be relative and may not contain '..'`);
  }
  mkdirSync(dir, { recursive: true });
  const dataLink = join(dir, '..data');
  let oldTs: string | undefined;
  try {
    oldTs = readlinkSync(dataLink);
  } catch {
    oldTs = undefined;
  }
  if (oldTs && !payloadChanged(join(dir, oldTs), payload)) return false;
  const stamp = `..${now.toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}${Math.random().toString().slice(2, 8)}`;
  const tsDir = join(dir, stamp);
  mkdirSync(tsDir, { mode: 0o755 });
  for (const [p, f] of payload) {
    const file = join(tsDir, p);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.data);
    chmodSync(file, f.mode);
  }
  const tmp = join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(stamp, tmp);
  renameSync(tmp, dataLink);
  // User-visible names: one symlink per top-level path component.
  const tops = new Set([...payload.keys()].map((p) => normalize(p).split(sep)[0]!));
  for (const t of tops) {
    const link = join(dir, t);
    let ok = false;
    try {
      ok = lstatSync(link).isSymbolicLink() && readlinkSync(link) === join('..data', t);
    } catch {
      ok = false;
    }
    if (!ok) {
      rmSync(link, { recursive: true, force: true });
      symlinkSync(join('..data', t), link);
    }
  }
  for (const e of readdirSync(dir)) {
    if (e.startsWith('..')) {
      if (e !== '..data' && e !== stamp) rmSync(join(dir, e), { recursive: true, force: true });
      continue;
    }
    if (!tops.has(e)) rmSync(join(dir, e), { recursive: true, force: true });
  }
  return true;
}

function payloadChanged(tsDir: string, payload: Map<string, FileProjection>): boolean {
  const existing = listFiles(tsDir);
  if (existing.length !== payload.size) return true;
  for (const p of existing) {
    const f = payload.get(p);
    if (!f) return true;
    try {
      const st = statSync(join(tsDir, p));
      if ((st.mode & 0o777) !== (f.mode & 0o777)) return true;
      if (st.size !== f.data.length) return true;
      const cur = readFileSync(join(tsDir, p));
      if (!cur.equals(f.data)) return true;
    } catch {
      return true;
    }
  }
  return false;
}


function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = join(dir, e);
    if (isRegularDir(full)) out.push(...listFiles(full, prefix + e + '/'));
    else out.push(prefix + e);
  }
  return out;
}

export interface VolumeSources extends EnvSources {
  pvc(namespace: string, name: string): KObject | undefined;
  pv(name: string): KObject | undefined;
  /** TokenRequest for projected serviceAccountToken sources. */
  requestToken?(namespace: string, sa: string, audience: string | undefined, expirationSeconds: number, pod: KObject): Promise<string>;
}

export interface MountedVolume {
  name: string;
  path: string;
  /** configMap, secret, downwardAPI, projected are always read-only. */
  readOnly: boolean;
  kind: string;
}

function mode(m: unknown, dflt: number): number {
  return typeof m === 'number' ? m : dflt;
}

/** The files of a configMap/secret source (items, optional, defaultMode). */
function keyedProjection(kind: 'configmap' | 'secret', obj: KObject | undefined, src: Json, name: string, dfltMode: number, out: Map<string, FileProjection>): void {
  if (!obj) {
    if (src.optional) return;
    throw new VolumeError(`${kind} "${name}" not found`);
  }
  const all = new Map<string, Buffer>();
  if (kind === 'configmap') {
    for (const [k, v] of Object.entries(((obj as Json).data ?? {}) as Record<string, string>)) all.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(((obj as Json).binaryData ?? {}) as Record<string, string>)) all.set(k, Buffer.from(v, 'base64'));
  } else for (const [k, v] of Object.entries(((obj as Json).data ?? {}) as Record<string, string>)) all.set(k, Buffer.from(v, 'base64'));
  if (Array.isArray(src.items) && src.items.length) {
    for (const it of src.items) {
      const d = all.get(it.key);
      if (!d) {
        if (src.optional) continue;
        throw new VolumeError(`${kind === 'configmap' ? 'configmap' : 'secret'} references non-existent ${kind === 'configmap' ? 'config' : 'secret'} key: ${it.key}`);
      }
      out.set(it.path, { data: d, mode: mode(it.mode, dfltMode) });
    }
  } else for (const [k, d] of all) out.set(k, { data: d, mode: dfltMode });
}

function downwardProjection(pod: KObject, items: Json[], dfltMode: number, src: EnvSources, out: Map<string, FileProjection>): void {
  for (const it of items ?? []) {
    let v = '';
    if (it.fieldRef) {
      const p = String(it.fieldRef.fieldPath);
      const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(p);
      if (m) v = String((pod.metadata as Json)[m[1]!]?.[m[2]!] ?? '');
      else if (p === 'metadata.labels') v = formatMap(pod.metadata.labels);
      else if (p === 'metadata.annotations') v = formatMap(pod.metadata.annotations);
      else if (p === 'metadata.name') v = pod.metadata.name ?? '';
      else if (p === 'metadata.namespace') v = pod.metadata.namespace ?? '';
      else if (p === 'metadata.uid') v = pod.metadata.uid ?? '';
      else throw new VolumeError(`unsupported fieldPath in downwardAPI volume: ${p}`);
    } else if (it.resourceFieldRef) v = resourceFieldValue(pod, undefined, it.resourceFieldRef, src);
    out.set(it.path, { data: Buffer.from(v), mode: mode(it.mode, dfltMode) });
  }
}

/** Everything a pod's volumes need on disk. One per pod; setUp is idempotent and refreshes projections. */
export class PodVolumes {
  readonly dir: string;
  private tokens = new Map<string, { token: string; at: number; ttl: number }>();
  /** Warnings to surface once (e.g. a token source that could not be served). */
  readonly warnings: string[] = [];

  constructor(
    rootDir: string,
    readonly pod: KObject,
  ) {
    this.dir = join(rootDir, 'pods', pod.metadata.uid!, 'volumes');
  }

  pathFor(kind: string, name: string): string {
    return join(this.dir, `kubernetes.io~${kind}`, name);
  }

  /** Sets up (or refreshes) every volume; throws VolumeError naming the failing volume. */
  async setUp(pod: KObject, src: VolumeSources, now: Date = new Date()): Promise<Map<string, MountedVolume>> {
    const out = new Map<string, MountedVolume>();
    const ns = pod.metadata.namespace ?? 'default';
    for (const v of (pod.spec?.volumes ?? []) as Json[]) {
      try {
        out.set(v.name, await this.setUpOne(pod, v, ns, src, now));
      } catch (e) {
        throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
    return out;
  }

  private async setUpOne(pod: KObject, v: Json, ns: string, src: VolumeSources, now: Date): Promise<MountedVolume> {
    if (v.hostPath) {
      const p = String(v.hostPath.path);
      checkHostPathType(p, v.hostPath.type ?? '');
      return { name: v.name, path: p, readOnly: false, kind: 'hostPath' };
    }
    if (v.emptyDir) {
      const p = this.pathFor('empty-dir', v.name);
      if (v.emptyDir.medium === 'Memory' && existsSync('/dev/shm')) {
        if (!existsSync(p)) {
          const shm = join('/dev/shm', `kts-${pod.metadata.uid}-${v.name}`);
          mkdirSync(shm, { recursive: true, mode: 0o777 });
          chmodSync(shm, 0o777);
          mkdirSync(dirname(p), { recursive: true });
          symlinkSync(shm, p);
        }
      } else if (!existsSync(p)) {
        mkdirSync(p, { recursive: true });
        chmodSync(p, 0o777);
      }
      return { name: v.name, path: p, readOnly: false, kind: 'emptyDir' };
    }
    if (v.configMap || v.secret || v.downwardAPI || v.projected) {
      const kind = v.configMap ? 'configmap' : v.secret ? 'secret' : v.downwardAPI ? 'downward-api' : 'projected';
      const p = this.pathFor(kind, v.name);
      const payload = new Map<string, FileProjection>();
      if (v.configMap) keyedProjection('configmap', src.configMap(ns, v.configMap.name), v.configMap, v.configMap.name, mode(v.configMap.defaultMode, 0o644), payload);
      else if (v.secret) keyedProjection('secret', src.secret(ns, v.secret.secretName), v.secret, v.secret.secretName, mode(v.secret.defaultMode, 0o644), payload);
      else if (v.downwardAPI) downwardProjection(pod, v.downwardAPI.items, mode(v.downwardAPI.defaultMode, 0o644), src, payload);
      else {
        const dm = mode(v.projected.defaultMode, 0o644);
        for (const s of v.projected.sources ?? []) {
          if (s.configMap) keyedProjection('configmap', src.configMap(ns, s.configMap.name), s.configMap, s.configMap.name, dm, payload);
          else if (s.secret) keyedProjection('secret', src.secret(ns, s.secret.name), s.secret, s.secret.name, dm, payload);
          else if (s.downwardAPI) downwardProjection(pod, s.downwardAPI.items, dm, src, payload);
          else if (s.serviceAccountToken) {
            const t = await this.token(pod, s.serviceAccountToken, src, now);
            if (t !== undefined) payload.set(s.serviceAccountToken.path, { data: Buffer.from(t), mode: dm === 0o644 ? 0o600 : dm });
          }
        }
      }
      atomicWrite(p, payload, now);
      return { name: v.name, path: p, readOnly: true, kind };
    }
    if (v.persistentVolumeClaim) {
      const claim = src.pvc(ns, v.persistentVolumeClaim.claimName);
      if (!claim) throw new VolumeError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
      const pvName = (claim as Json).spec?.volumeName;
      if (!pvName || (claim as Json).status?.phase !== 'Bound') throw new VolumeError(`PVC ${ns}/${v.persistentVolumeClaim.claimName} is not bound`);
      const pv = src.pv(pvName);
      if (!pv) throw new VolumeError(`persistentvolume "${pvName}" not found`);
      const path = (pv as Json).spec?.hostPath?.path ?? (pv as Json).spec?.local?.path;
      if (!path) throw new VolumeError(`persistentvolume "${pvName}" is neither hostPath nor local: this node cannot mount it`);
      if ((pv as Json).spec?.hostPath) checkHostPathType(path, (pv as Json).spec.hostPath.type ?? 'DirectoryOrCreate');
      return { name: v.name, path, readOnly: !!v.persistentVolumeClaim.readOnly, kind: 'pvc' };
    }
    throw new VolumeError('volume type not supported by this kubelet');
  }

  private async token(pod: KObject, s: Json, src: VolumeSources, now: Date): Promise<string | undefined> {
    const exp = Number(s.expirationSeconds ?? 3607);
    const key = `${s.audience ?? ''}/${exp}/${s.path}`;
    const cached = this.tokens.get(key);
    // Refresh at 80 % of the TTL, as upstream's token manager.
    if (cached && now.getTime() - cached.at < cached.ttl * 800) return cached.token;
    if (!src.requestToken) return cached?.token;
    try {
      const token = await src.requestToken(pod.metadata.namespace ?? 'default', pod.spec?.serviceAccountName ?? 'default', s.audience, exp, pod);
      this.tokens.set(key, { token, at: now.getTime(), ttl: exp });
      return token;
    } catch (e) {
      const msg = `serviceAccountToken projection skipped: ${(e as Error).message}`;
      if (!this.warnings.includes(msg)) this.warnings.push(msg);
      return cached?.token;
    }
  }

  /** Removes the pod's volume directories (emptyDir contents go; hostPath/PV data stays). */
  tearDown(): void {
    for (const v of (this.pod.spec?.volumes ?? []) as Json[]) {
      if (v.emptyDir?.medium === 'Memory') rmSync(join('/dev/shm', `kts-${this.pod.metadata.uid}-${v.name}`), { recursive: true, force: true });
    }
    rmSync(dirname(this.dir), { recursive: true, force: true });
  }
}

/** upstream hostPath type checks (and creation for *OrCreate). */
export function checkHostPathType(p: string, type: string): void {
  const st = (() => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  })();
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) {
        mkdirSync(p, { recursive: true, mode: 0o755 });
        return;
      }
      if (!st.isDirectory()) throw new VolumeError(`hostPath type check failed: ${p} is not a directory`);
      return;
    case 'Directory':
      if (!st?.isDirectory()) throw new VolumeError(`hostPath type check failed: ${p} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!st) {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, '', { mode: 0o644 });
        return;
      }
      if (!st.isFile()) throw new VolumeError(`hostPath type check failed: ${p} is not a file`);
      return;
    case 'File':
      if (!st?.isFile()) throw new VolumeError(`hostPath type check failed: ${p} is not a file`);
      return;
    case 'Socket':
      if (!st?.isSocket()) throw new VolumeError(`hostPath type check failed: ${p} is not a socket file`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw new VolumeError(`hostPath type check failed: ${p} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw new VolumeError(`hostPath type check failed: ${p} is not a block device`);
      return;
    default:
      throw new VolumeError(`hostPath type check failed: unknown type ${type}`);
  }
}

/** The host path of a volumeMount (with subPath / subPathExpr already expanded). */
export function mountHostPath(vol: MountedVolume, subPath: string | undefined): string {
  if (!subPath) return vol.path;
  const n = normalize(subPath);
  if (n.startsWith('..') || n.startsWith('/')) throw new VolumeError(`invalid subPath ${JSON.stringify(subPath)}`);
  const p = join(vol.path, n);
  if (!existsSync(p) && !vol.readOnly) mkdirSync(p, { recursive: true, mode: 0o777 });
  return p;
}

/** A stable hash of a payload (for tests and change detection). */
export function payloadHash(payload: Map<string, FileProjection>): string {
  const h = createHash('sha256');
  for (const k of [...payload.keys()].sort()) h.update(k).update('\0').update(payload.get(k)!.data).update(String(payload.get(k)!.mode));
  return h.digest('hex');
}
