// The mirror pod client (upstream's pkg/kubelet/pod/mirror_client.go): a static pod is shown
// in the API as a mirror pod, a copy with the config.mirror annotation (= the static pod's
// config hash) owned by this node's Node, so the API sees what runs here.
import { call, isConflict, isNotFound, resourcePath, StatusError, type Client } from '../client/client.js';
import type { KObject } from '../api/types.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION } from './config/file.js';

/** The config hash a mirror pod stands for. */
export function mirrorHash(mirror: KObject): string | undefined {
  return mirror.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION];
}

/** IsMirrorPodOf: the mirror has the static pod's name and hash. */
export function isMirrorPodOf(mirror: KObject, pod: KObject): boolean {
  if (mirror.metadata.name !== pod.metadata.name || (mirror.metadata.namespace ?? 'default') !== (pod.metadata.namespace ?? 'default')) return false;
  const h = mirrorHash(mirror);
  return h !== undefined && h === pod.metadata.annotations?.[CONFIG_HASH_ANNOTATION];
}

export class MirrorClient {
  constructor(
    private readonly client: Client,
    private readonly nodeName: string,
    /** The Node's UID, for the owner reference (undefined until the node is registered). */
    private readonly nodeUID: () => Promise<string | undefined>,
  ) {}

  /** The mirror pod of a static pod, as the API should receive it. */
  async mirrorOf(pod: KObject): Promise<KObject> {
    const uid = await this.nodeUID();
    if (!uid) throw new Error(`failed to get node UID: node "${this.nodeName}" not found`);
    const hash = pod.metadata.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
    // Identity and status are the API server's: only the name, labels, annotations and spec travel.
    const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, ...meta } = pod.metadata;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta,
        annotations: { ...(pod.metadata.annotations ?? {}), [CONFIG_MIRROR_ANNOTATION]: hash },
        // Mirror pods are owned by their node (the MirrorPodNodeRestriction rule).
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid, controller: true }],
      },
      spec: structuredClone(pod.spec),
    };
  }

  /** CreateMirrorPod: AlreadyExists is fine when the existing pod is this pod's mirror. */
  async create(pod: KObject): Promise<KObject | undefined> {
    const body = await this.mirrorOf(pod);
    const ns = pod.metadata.namespace ?? 'default';
    try {
      return await call(this.client, 'POST', resourcePath('', 'v1', 'pods', ns), { body });
    } catch (e) {
      if (e instanceof StatusError && e.code === 409 && e.reason === 'AlreadyExists') {
        const cur = await call(this.client, 'GET', resourcePath('', 'v1', 'pods', ns, pod.metadata.name)).catch(() => undefined);
        if (cur && mirrorHash(cur) === body.metadata.annotations![CONFIG_MIRROR_ANNOTATION]) return cur;
      }
      throw e;
    }
  }

  /**
   * DeleteMirrorPod: grace period 0, with the mirror's UID as precondition so that a newer
   * mirror is never deleted by mistake. Returns whether it deleted something.
   */
  async delete(namespace: string, name: string, uid?: string): Promise<boolean> {
    try {
      await call(this.client, 'DELETE', resourcePath('', 'v1', 'pods', namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) },
      });
      return true;
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return false;
      throw e;
    }
  }
}
