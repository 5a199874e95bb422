// Watch: a stream of JSON lines {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": …}
// fed by the watch cache. Selectors turn updates into ADDED/DELETED as objects enter and
// leave the selection, exactly as upstream's cacher does.
import type { KObject } from '../../api/types.js';
import { apiVersionOf } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError, badRequest, resourceExpired, serviceUnavailable } from '../errors.js';
import { negotiateOutput } from '../negotiation.js';
import type { ApiRequest, ApiResponse, StreamSink } from '../request.js';
import type { RequestInfo } from '../requestinfo.js';
import { listPrefix, objectKey, type ServedResource } from '../resources.js';
import { WatchCacheStoppedError, type CachedEvent } from '../watchcache.js';
import { CompactedError } from '../../storage/store.js';
import { buildFilter } from './filter.js';
import { storedFilter, toServed, toView } from './resource.js';
import { partialMetadata, tableColumns, tableRow, type IncludeObject } from '../table.js';

/** How often a watch that allows bookmarks gets one (upstream: about once a minute). */
export const BOOKMARK_INTERVAL_MS = 60_000;
/** Upstream's --min-request-timeout: watches end after 30–60 minutes unless timeoutSeconds says less. */
const MIN_REQUEST_TIMEOUT_S = 1800;
/** A client this far behind is cut off (it will re-list and re-watch). */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export async function handleWatch(s: ApiServer, served: ServedResource, info: RequestInfo, req: ApiRequest): Promise<ApiResponse> {
  const { decl } = served;
  const q = req.query;
  const output = negotiateOutput(req.headers['accept']);
  const include = (q.get('includeObject') as IncludeObject) || 'Metadata';
  const filter0 = storedFilter(served, buildFilter(decl, q));
  // A watch on one object (/watch/…/name or fieldSelector=metadata.name=x from the URL) is a filter.
  const nameFilter = info.name ? (o: KObject) => o.metadata.name === info.name : undefined;
  const filter = nameFilter && filter0 ? (o: KObject) => nameFilter(o) && filter0(o) : (nameFilter ?? filter0);
  const prefix = info.name ? objectKey(served.storage, info.namespace, info.name) : listPrefix(served.storage, info.namespace);
  const rvParam = q.get('resourceVersion') ?? '';
  const sendInitial = q.get('sendInitialEvents');
  const allowBookmarks = q.get('allowWatchBookmarks') === 'true';
  if (sendInitial === 'true' && q.get('resourceVersionMatch') !== 'NotOlderThan')
    throw new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`);
  let timeoutS = q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw badRequest(`invalid timeoutSeconds ${q.get('timeoutSeconds')}`);
  if (timeoutS === 0) timeoutS = MIN_REQUEST_TIMEOUT_S * (1 + Math.random());

  // Initial state: for no resourceVersion (or "0"), the current objects as ADDED events,
  // then every change after the revision they were read at.
  let initial: KObject[] = [];
  let fromRevision: number;
  const wantInitial = sendInitial === 'true' || (sendInitial !== 'false' && (rvParam === '' || rvParam === '0'));
  if (wantInitial) {
    const list = await s.registry.list(served.storage, info.namespace, { filter });
    initial = info.name ? list.items.filter((o) => o.metadata.name === info.name) : list.items;
    fromRevision = Number(list.resourceVersion);
    if (rvParam && rvParam !== '0' && Number(rvParam) > fromRevision) {
      await s.waitForRevision(Number(rvParam));
    }
  } else {
    fromRevision = Number(rvParam);
    if (!Number.isInteger(fromRevision) || fromRevision < 0) throw badRequest(`Invalid value for resourceVersion: ${JSON.stringify(rvParam)}`);
  }
  const tooOld = await s.compactedBefore(fromRevision);

  const now = () => s.clock.now();
  let sentColumns = false;
  const encodeObject = (stored: KObject): unknown => {
    const servedObj = toServed(served, stored);
    if (output === 'table') {
      const withCols = !sentColumns;
      sentColumns = true;
      return {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: stored.metadata.resourceVersion },
        columnDefinitions: withCols ? tableColumns(decl) : null,
        rows: [tableRow(decl, toView(served, stored), now(), include, servedObj)],
      };
    }
    if (output === 'partialMetadata' || output === 'partialMetadataList') return partialMetadata(servedObj);
    return servedObj;
  };
  const line = (type: string, object: unknown) => JSON.stringify({ type, object }) + '\n';

  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    stream: (sink: StreamSink) => {
      let closed = false;
      let pendingBytes = 0;
      const timers: NodeJS.Timeout[] = [];
      let sub: { cancel(): void } | undefined;
      const close = () => {
        if (closed) return;
        closed = true;
        sub?.cancel();
        for (const t of timers) clearTimeout(t);
        sink.end();
      };
      sink.onClose(() => {
        closed = true;
        sub?.cancel();
        for (const t of timers) clearTimeout(t);
      });
      const send = (chunk: string) => {
        if (closed) return;
        pendingBytes += chunk.length;
        if (!sink.write(chunk)) {
          if (pendingBytes > MAX_PENDING_BYTES) close();
        } else pendingBytes = 0;
      };
      if (tooOld !== undefined) {
        const err = resourceExpired(`too old resource version: ${fromRevision} (${tooOld})`);
        send(line('ERROR', err.toStatus()));
        close();
        return;
      }
      for (const o of initial) send(line('ADDED', encodeObject(o)));
      let lastRV = fromRevision;
      const bookmark = (annotations?: Record<string, string>) =>
        line('BOOKMARK', {
          kind: decl.kind,
          apiVersion: apiVersionOf(decl, served.version),
          metadata: { resourceVersion: String(lastRV), creationTimestamp: null, ...(annotations ? { annotations } : {}) },
        });
      if (sendInitial === 'true') send(bookmark({ 'k8s.io/initial-events-end': 'true' }));

      const matches = (o: KObject | undefined) => !!o && (!filter || filter(o));
      const onEvent = (ce: CachedEvent) => {
        if (closed) return;
        lastRV = ce.revision;
        const cur = ce.object();
        let type: string | undefined;
        let obj: KObject | undefined;
        if (ce.type === 'DELETE') {
          if (matches(cur)) {
            type = 'DELETED';
            obj = cur;
          }
        } else {
          const prev = ce.ev.created ? undefined : ce.previous();
          const nowMatch = matches(cur);
          const prevMatch = matches(prev);
          if (nowMatch && prevMatch) type = 'MODIFIED';
          else if (nowMatch) type = 'ADDED';
          else if (prevMatch) type = 'DELETED';
          obj = cur;
        }
        if (!type || !obj) return;
        // Serialize once per event for all watchers that want the same form.
        const cacheKey = output === 'json' ? `${type}|${served.version}` : undefined;
        let chunk = cacheKey ? ce.encoded.get(cacheKey) : undefined;
        if (!chunk) {
          chunk = line(type, encodeObject(obj));
          if (cacheKey) ce.encoded.set(cacheKey, chunk);
        }
        send(chunk);
      };
      sub = s.cache.subscribe(prefix, fromRevision, {
        onEvent,
        onError: (err) => {
          if (closed) return;
          const status =
            err instanceof CompactedError
              ? resourceExpired(`too old resource version: ${fromRevision} (${err.compacted})`).toStatus()
              : err instanceof WatchCacheStoppedError
                ? serviceUnavailable(err.message).toStatus()
                : new ApiError(500, 'InternalError', `watch ended: ${err.message}`).toStatus();
          send(line('ERROR', status));
          close();
        },
      });
      timers.push(setTimeout(close, timeoutS * 1000));
      if (allowBookmarks) {
        const tick = () => {
          if (closed) return;
          lastRV = Math.max(lastRV, s.cache.currentRevision());
          send(bookmark());
          timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
        };
        timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
      }
    },
  };
}
