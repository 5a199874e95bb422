// pods/log: checks the container and its state as upstream's kubelet does (so the messages
// users know come back as 400 BadRequest), then streams the kubelet's
// /containerLogs/<ns>/<pod>/<container> with the same options.
import type { KObject } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError, badRequest, invalid, methodNotSupported } from '../errors.js';
import { kubeletGet } from '../../kubelet/server/client.js';
import { getPod, podNode, resolveContainer } from './exec.js';

interface ContainerStateView {
  running?: unknown;
  terminated?: { containerID?: string };
  waiting?: { reason?: string };
}
interface ContainerStatusView {
  name: string;
  state?: ContainerStateView;
  lastState?: ContainerStateView;
}

/** Upstream kubelet's validateContainerLogStatus, on the pod's reported status. */
export function checkLogStatus(pod: KObject, container: string, previous: boolean): void {
  const st = (pod.status ?? {}) as { containerStatuses?: ContainerStatusView[]; initContainerStatuses?: ContainerStatusView[]; ephemeralContainerStatuses?: ContainerStatusView[] };
  const all = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])];
  const cs = all.find((c) => c.name === container);
  const podName = pod.metadata.name!;
  if (!cs) throw badRequest(`container "${container}" in pod "${podName}" is not available`);
  const last = cs.lastState?.terminated;
  if (previous) {
    if (!last) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  if (cs.state?.running || cs.state?.terminated || last) return;
  const reason = cs.state?.waiting?.reason;
  if (cs.state?.waiting) {
    if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason ?? ''}`);
  }
  throw badRequest(`container "${container}" in pod "${podName}" is not available`);
}

function validateLogOptions(name: string, q: URLSearchParams): void {
  const errs: { type: 'Invalid' | 'Forbidden'; field: string; value?: unknown; detail: string }[] = [];
  const int = (k: string) => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return n;
  };
  const tail = int('tailLines');
  const limit = int('limitBytes');
  const since = int('sinceSeconds');
  if (tail !== undefined && tail < 0) errs.push({ type: 'Invalid', field: 'tailLines', value: tail, detail: 'must be greater than or equal to 0' });
  if (limit !== undefined && limit < 1) errs.push({ type: 'Invalid', field: 'limitBytes', value: limit, detail: 'must be greater than 0' });
  if (since !== undefined && q.get('sinceTime')) errs.push({ type: 'Forbidden', field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (since !== undefined && since < 1) errs.push({ type: 'Invalid', field: 'sinceSeconds', value: since, detail: 'must be greater than 0' });
  if (errs.length) throw invalid('', 'PodLogOptions', name, errs as never);
}

export function registerLog(api: ApiServer): void {
  api.registerSubresource('', 'pods', 'log', async (info, req) => {
    if (info.verb !== 'get') throw methodNotSupported({ group: '', resource: 'pods/log' }, info.verb);
    validateLogOptions(info.name, req.query);
    const pod = await getPod(api, info.namespace, info.name);
    const container = resolveContainer(pod, req.query.get('container'));
    // No node yet: nothing has run, so there is nothing to show (upstream returns an empty body).
    if (!pod.spec?.nodeName) return { status: 200, contentType: 'text/plain', body: '' };
    const previous = req.query.get('previous') === 'true';
    checkLogStatus(pod, container, previous);
    const node = await podNode(api, pod);
    const q = new URLSearchParams();
    for (const k of ['follow', 'previous', 'tailLines', 'sinceSeconds', 'sinceTime', 'timestamps', 'limitBytes']) {
      const v = req.query.get(k);
      if (v !== null && v !== '') q.set(k, v);
    }
    const ac = new AbortController();
    let res;
    try {
      res = await kubeletGet(api, node, `/containerLogs/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}`, q, ac.signal);
    } catch (e) {
      throw new ApiError(500, '', (e as Error).message);
    }
    if ((res.statusCode ?? 500) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const st = JSON.parse(text) as { kind?: string; reason?: string; message?: string; code?: number };
        if (st.kind === 'Status') throw new ApiError(st.code ?? res.statusCode ?? 500, st.reason ?? '', st.message ?? text);
      } catch (e) {
        if (e instanceof ApiError) throw e;
      }
      throw new ApiError(res.statusCode ?? 500, '', text.trim());
    }
    // The kubelet's bytes go straight through, as they come, at the pace the client reads
    // them (a log may be far bigger than what should sit in memory).
    return {
      status: 200,
      headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' },
      stream: (sink) => {
        res.on('data', (c: Buffer) => {
          if (!sink.write(c) && sink.onDrain) {
            res.pause();
            sink.onDrain(() => res.resume());
          }
        });
        res.on('end', () => sink.end());
        res.on('error', () => sink.end());
        sink.onClose(() => {
          ac.abort();
          res.destroy();
        });
      },
    };
  });
}
