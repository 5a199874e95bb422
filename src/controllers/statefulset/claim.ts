// ControllerRefManager for the StatefulSet and DaemonSet controllers: claim the objects
// (pods, ControllerRevisions) a controller owns — keep owned ones that still match, release
// owned ones that no longer do, adopt matching orphans (only after re-reading the owner, so a
// deleted owner never adopts).
import type { KObject, OwnerReference } from '../../api/types.js';
import type { LabelSelector } from '../../api/labels.js';
import { call, isNotFound, type Client } from '../../client/client.js';
import type { Informer } from '../../client/informer.js';
import { CONTROLLER_UID_INDEX, ORPHAN_NS_INDEX } from '../replicaset.js';

export interface ClaimOptions {
  client: Client;
  informer: Informer;
  owner: KObject;
  ownerRef: OwnerReference;
  /** The owner's own path (re-read before adopting). */
  ownerPath: string;
  selector: LabelSelector;
  /** Path of one claimed object. */
  objectPath(obj: KObject): string;
  /** Extra membership test (StatefulSet: the pod's name is `<set>-<ordinal>`). */
  filter?(obj: KObject): boolean;
}

export async function claimObjects(o: ClaimOptions): Promise<KObject[]> {
  const ns = o.owner.metadata.namespace ?? '';
  const uid = o.owner.metadata.uid!;
  const deleting = !!o.owner.metadata.deletionTimestamp;
  const match = (obj: KObject) => o.selector.matches(obj.metadata.labels) && (!o.filter || o.filter(obj));
  const claimed: KObject[] = [];
  let fresh: boolean | undefined;
  const canAdopt = async () => {
    if (fresh === undefined) {
      try {
        const cur = await call(o.client, 'GET', o.ownerPath);
        fresh = cur.metadata.uid === uid && !cur.metadata.deletionTimestamp;
      } catch {
        fresh = false;
      }
    }
    return fresh;
  };
  for (const obj of o.informer.byIndex(CONTROLLER_UID_INDEX, uid)) {
    if ((obj.metadata.namespace ?? '') !== ns) continue;
    if (match(obj)) claimed.push(obj);
    else if (!deleting) {
      try {
        await call(o.client, 'PATCH', o.objectPath(obj), {
          contentType: 'application/strategic-merge-patch+json',
          body: { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: obj.metadata.uid } },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
  if (!deleting) {
    for (const obj of o.informer.byIndex(ORPHAN_NS_INDEX, ns)) {
      if (obj.metadata.deletionTimestamp || !match(obj)) continue;
      if (!(await canAdopt())) break;
      try {
        const refs = [...(obj.metadata.ownerReferences ?? []), o.ownerRef];
        claimed.push(
          await call(o.client, 'PATCH', o.objectPath(obj), {
            contentType: 'application/json-patch+json',
            body: [
              { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
              { op: 'add', path: '/metadata/ownerReferences', value: refs },
            ],
          }),
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
  return claimed;
}
