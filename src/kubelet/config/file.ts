// The file pod source (upstream's pkg/kubelet/config/file.go + common.go): every regular,
// non-hidden file in the manifest directory holds one v1 Pod, which becomes a static pod of
// this node. Its UID is an md5 over the node, the file and the defaulted pod, so it is stable
// across kubelet restarts and changes when the manifest does. The directory is re-read on
// fs.watch events and every fileCheckFrequency (20 s) as upstream polls; a file that cannot
// be read or parsed is logged and skipped.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { KObject } from '../../api/types.js';
import { arr, isObj, type Json } from '../../api/core/helpers.js';
import { defaultPodSpec } from '../../api/core/pod_defaults.js';
import { validatePodSpec } from '../../api/core/pod_validation.js';
import { fieldErrorMessage } from '../../api/validation/field.js';
import { isDNS1123Subdomain } from '../../api/validation/names.js';
import type { Clock } from '../../controllers/context.js';
import type { Logger } from '../../util/log.js';

// pkg/kubelet/types/pod_update.go
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_FIRST_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const FILE_SOURCE = 'file';
export const API_SOURCE = 'api';

/** Upstream's fileCheckFrequency. */
export const FILE_CHECK_FREQUENCY_MS = 20_000;

/** A pod the kubelet got from a file (or any source but the API server). */
export function isStaticPod(pod: KObject): boolean {
  const src = pod.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return src !== undefined && src !== API_SOURCE;
}

/** The API object standing for a static pod. */
export function isMirrorPod(pod: KObject): boolean {
  return pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** namespace/name, the key static pods and their mirrors share. */
export function podFullName(pod: KObject): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

export class ManifestError extends Error {}

/** Sorted-key JSON: the same object always hashes the same (upstream's DeepHashObject). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The v1 scheme defaults the decoder applies (SetDefaults_Pod and the PodSpec cascade); no admission defaults. */
function schemeDefaults(pod: Record<string, Json>): void {
  if (!isObj(pod.spec)) pod.spec = {};
  const spec = pod.spec as Record<string, Json>;
  for (const kind of ['containers', 'initContainers']) {
    for (const c of arr(spec[kind])) {
      if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) continue;
      if (!isObj(c.resources.requests)) c.resources.requests = {};
      for (const [k, v] of Object.entries(c.resources.limits)) if (c.resources.requests[k] === undefined) c.resources.requests[k] = v;
    }
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  defaultPodSpec(spec);
}

/**
 * One manifest's text → the static pod (tryDecodeSinglePod + applyDefaults): throws
 * ManifestError when it is not a valid v1 Pod. `seen` is the config.seen annotation.
 */
export function podFromManifest(data: string, filename: string, nodeName: string): KObject {
  let obj: unknown;
  try {
    obj = YAML.parse(data);
  } catch (e) {
    throw new ManifestError(`${filename}: couldn't parse as pod(${(e as Error).message.split('\n')[0]}), please check manifest file`);
  }
  if (!isObj(obj)) throw new ManifestError(`${filename}: couldn't parse as pod(Object 'Kind' is missing), please check manifest file`);
  if (!obj.kind) throw new ManifestError(`${filename}: couldn't parse as pod(Object 'Kind' is missing), please check manifest file`);
  if (obj.kind !== 'Pod' || obj.apiVersion !== 'v1') throw new ManifestError(`${filename}: couldn't parse as pod(invalid pod: ${String(obj.apiVersion)}, Kind=${String(obj.kind)}), please check manifest file`);
  const pod = obj as KObject;
  if (!isObj(pod.metadata)) pod.metadata = {};
  delete pod.status;
  schemeDefaults(pod);
  const meta = pod.metadata;
  if (!meta.uid) {
    const h = createHash('md5');
    h.update(`host:${nodeName}`);
    h.update(`file:${filename}`);
    h.update(canonical(pod));
    meta.uid = h.digest('hex');
  }
  if (!meta.name) throw new ManifestError(`invalid pod: metadata.name: Required value: name or generateName is required`);
  meta.name = `${meta.name}-${nodeName.toLowerCase()}`;
  if (!meta.namespace) meta.namespace = 'default';
  pod.spec.nodeName = nodeName;
  meta.annotations = { ...(isObj(meta.annotations) ? (meta.annotations as Record<string, string>) : {}), [CONFIG_HASH_ANNOTATION]: meta.uid };
  // Static pods tolerate every NoExecute taint, so node problems never evict them.
  const tol = { operator: 'Exists', effect: 'NoExecute' };
  const tols = arr(pod.spec.tolerations).filter((t) => !(isObj(t) && !t.key && t.operator === 'Exists' && t.effect === 'NoExecute' && t.value === undefined && t.tolerationSeconds === undefined));
  pod.spec.tolerations = [...tols, tol];
  pod.status = { phase: 'Pending' };
  const errs = isDNS1123Subdomain(meta.name).map((m) => `metadata.name: Invalid value: "${meta.name}": ${m}`);
  errs.push(...validatePodSpec(pod.spec, 'spec').map(fieldErrorMessage));
  if (errs.length) throw new ManifestError(`invalid pod: [${errs.join(', ')}]`);
  return { apiVersion: 'v1', kind: 'Pod', ...pod };
}

/** extractFromDir: the pods of every regular, non-hidden file, sorted by name; bad files are reported and skipped. */
export function readManifestDir(dir: string, nodeName: string): { pods: { file: string; pod: KObject }[]; errors: { file: string; error: string }[] } {
  const pods: { file: string; pod: KObject }[] = [];
  const errors: { file: string; error: string }[] = [];
  for (const name of readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
    const file = join(dir, name);
    try {
      const st = statSync(file);
      if (st.isDirectory()) throw new ManifestError(`Not recursing into manifest path "${file}"`);
      if (!st.isFile()) throw new ManifestError(`Manifest path "${file}" is not a directory or file`);
      pods.push({ file, pod: podFromManifest(readFileSync(file, 'utf8'), file, nodeName) });
    } catch (e) {
      errors.push({ file, error: (e as Error).message });
    }
  }
  return { pods, errors };
}

export interface FileSourceOptions {
  dir: string;
  nodeName: string;
  log: Logger;
  clock: Clock;
  /** Called after every read that changed the set of pods. */
  onChange: () => void;
  periodMs?: number;
}

/**
 * Watches the manifest directory and holds the current static pods by UID, each with its
 * config.source and config.seen (the time this kubelet first saw that UID).
 */
export class FileSource {
  private current = new Map<string, KObject>();
  private readonly seen = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private watcher?: FSWatcher;
  private timer?: { cancel(): void };
  private debounce?: { cancel(): void };
  private stopped = false;
  private missingLogged = false;

  constructor(private readonly opts: FileSourceOptions) {}

  /** Reads the directory once (synchronously), then watches it. */
  start(): void {
    this.read();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.debounce?.cancel();
    this.watcher?.close();
    this.watcher = undefined;
  }

  pods(): KObject[] {
    return [...this.current.values()];
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.read();
      this.schedule();
    }, this.opts.periodMs ?? FILE_CHECK_FREQUENCY_MS);
  }

  private ensureWatch(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(this.opts.dir, { persistent: false }, () => {
        // Coalesce the events of one write (editors write, rename, chmod).
        this.debounce?.cancel();
        this.debounce = this.opts.clock.setTimeout(() => this.read(), 100);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // the directory may appear later; the poll retries
    }
  }

  /** Re-reads every manifest; returns whether the set of pods changed. */
  read(): boolean {
    if (this.stopped) return false;
    const { dir, nodeName, log } = this.opts;
    let result: ReturnType<typeof readManifestDir>;
    if (!existsSync(dir)) {
      if (!this.missingLogged) log.warn('Unable to read config path', { path: dir, err: 'path does not exist, ignoring' });
      this.missingLogged = true;
      result = { pods: [], errors: [] };
    } else {
      this.missingLogged = false;
      try {
        result = readManifestDir(dir, nodeName);
      } catch (e) {
        log.warn('Unable to read config path', { path: dir, err: String((e as Error).message) });
        return false;
      }
      this.ensureWatch();
    }
    // Log each bad file once per distinct error, not at every poll.
    const bad = new Set<string>();
    for (const { file, error } of result.errors) {
      bad.add(file);
      if (this.reported.get(file) !== error) log.warn('Could not process manifest file', { path: file, err: error });
      this.reported.set(file, error);
    }
    for (const f of this.reported.keys()) if (!bad.has(f)) this.reported.delete(f);
    const next = new Map<string, KObject>();
    const names = new Set<string>();
    for (const { file, pod } of result.pods) {
      const uid = pod.metadata.uid!;
      const full = podFullName(pod);
      // Two manifests for one pod name: the first (by file name) wins, as upstream's store keeps one.
      if (names.has(full) || next.has(uid)) {
        if (!this.reported.has(file)) log.warn('Could not process manifest file', { path: file, err: `duplicate static pod ${full}` });
        this.reported.set(file, 'duplicate');
        continue;
      }
      names.add(full);
      if (!this.seen.has(uid)) this.seen.set(uid, this.opts.clock.now().toISOString());
      pod.metadata.annotations = { ...pod.metadata.annotations, [CONFIG_FIRST_SEEN_ANNOTATION]: this.seen.get(uid)!, [CONFIG_SOURCE_ANNOTATION]: FILE_SOURCE };
      next.set(uid, pod);
    }
    for (const uid of this.seen.keys()) if (!next.has(uid)) this.seen.delete(uid);
    const changed = next.size !== this.current.size || [...next.keys()].some((u) => !this.current.has(u));
    this.current = next;
    if (changed) this.opts.onChange();
    return changed;
  }
}
