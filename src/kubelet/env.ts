// A container's environment, as upstream's kubelet makes it (kubelet_pods.go makeEnvironmentVariables):
// service variables first, then envFrom (in order, with prefix), then env (value with $(VAR)
// expansion, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef).
import type { KObject } from '../api/types.js';
import { Quantity } from '../api/quantity.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Errors that leave the container waiting with CreateContainerConfigError. */
export class EnvConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export interface EnvSources {
  configMap(namespace: string, name: string): KObject | undefined;
  secret(namespace: string, name: string): KObject | undefined;
  /** Services of the pod's namespace, plus `kubernetes` of `default` (master services). */
  services(namespace: string): KObject[];
  podIPs: string[];
  hostIP: string;
  nodeName: string;
  /** Node allocatable, for resourceFieldRef limits defaulting. */
  nodeAllocatable?: Record<string, string>;
}

/**
 * $(VAR) expansion as upstream's third_party/forked/golang/expansion: `$$` escapes, `$(NAME)`
 * is replaced when NAME is defined, kept verbatim otherwise.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      const v = lookup(name);
      out += v !== undefined ? v : `$(${name})`;
      i = end;
      continue;
    }
    out += ch;
  }
  return out;
}

/** `my-svc` → `MY_SVC`. */
function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

/** {SVC}_SERVICE_HOST/_PORT (+ named ports) and the docker-link variables. */
export function serviceEnv(services: KObject[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const sorted = [...services].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  for (const s of sorted) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const ports: Json[] = s.spec?.ports ?? [];
    if (!ports.length) continue;
    const n = envName(String(s.metadata.name));
    out.push({ name: `${n}_SERVICE_HOST`, value: ip });
    out.push({ name: `${n}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${n}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    // Docker links.
    const first = ports[0];
    const proto0 = String(first.protocol ?? 'TCP').toLowerCase();
    out.push({ name: `${n}_PORT`, value: `${proto0}://${ip}:${first.port}` });
    for (const p of ports) {
      const proto = String(p.protocol ?? 'TCP');
      const pre = `${n}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pre, value: `${proto.toLowerCase()}://${ip}:${p.port}` });
      out.push({ name: `${pre}_PROTO`, value: proto.toLowerCase() });
      out.push({ name: `${pre}_PORT`, value: String(p.port) });
      out.push({ name: `${pre}_ADDR`, value: ip });
    }
  }
  return out;
}

function fieldPathValue(pod: KObject, path: string, src: EnvSources): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path) ?? /^metadata\.(labels|annotations)\[(.*)\]$/.exec(path);
  if (m) return String((pod.metadata as Json)[m[1]!]?.[m[2]!] ?? '');
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? src.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return src.hostIP;
    case 'status.hostIPs':
      return src.hostIP;
    case 'status.podIP':
      return src.podIPs[0] ?? '';
    case 'status.podIPs':
      return src.podIPs.join(',');
    default:
      throw new EnvConfigError(`unsupported fieldPath: ${path}`);
  }
}

/** Labels/annotations as the downward API writes them: k="v" lines, sorted. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** resourceFieldRef: limits.cpu / requests.memory … with divisor (limits default to node allocatable). */
export function resourceFieldValue(pod: KObject, containerName: string | undefined, ref: Json, src: EnvSources): string {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x: Json) => x.name === (ref.containerName || containerName));
  if (!c) throw new EnvConfigError(`container ${ref.containerName} not found`);
  const [kind, res] = String(ref.resource).split('.') as ['limits' | 'requests', string];
  let raw: string | undefined = c.resources?.[kind]?.[res];
  if (raw === undefined && kind === 'limits') raw = src.nodeAllocatable?.[res];
  if (raw === undefined && kind === 'requests') raw = c.resources?.limits?.[res];
  if (raw === undefined) raw = '0';
  const divisor = Quantity.parse(String(ref.divisor ?? '1'));
  const q = Quantity.parse(String(raw));
  if (res === 'cpu') {
    // upstream rounds cpu up to whole divisors (ceil(milli / divisorMilli)), at least 1
    const v = Math.ceil(q.milliValue() / divisor.milliValue());
    return String(raw === '0' ? 0 : Math.max(v, 1));
  }
  return String(Math.ceil(q.value() / divisor.value()));
}

function decodeSecret(s: KObject, key: string): string | undefined {
  const d = (s as Json).data?.[key];
  if (typeof d === 'string') return Buffer.from(d, 'base64').toString('utf8');
  const sd = (s as Json).stringData?.[key];
  return typeof sd === 'string' ? sd : undefined;
}

/** The container's environment, in upstream's order (later wins for duplicate names, first position kept). */
export function makeEnvironment(pod: KObject, container: Json, src: EnvSources): { name: string; value: string }[] {
  const ns = pod.metadata.namespace ?? 'default';
  const result = new Map<string, string>();
  const set = (n: string, v: string) => {
    result.set(n, v);
  };
  const enableLinks = pod.spec?.enableServiceLinks !== false;
  const svcs = src.services(ns).filter((s) => enableLinks || (s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes'));
  // Services in the pod's namespace win over the master service of the same name.
  const byName = new Map<string, KObject>();
  for (const s of svcs) if (s.metadata.namespace !== ns) byName.set(String(s.metadata.name), s);
  for (const s of svcs) if (s.metadata.namespace === ns) byName.set(String(s.metadata.name), s);
  for (const e of serviceEnv([...byName.values()])) set(e.name, e.value);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = src.configMap(ns, from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new EnvConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(((cm as Json).data ?? {}) as Record<string, string>)) set(prefix + k, v);
    } else if (from.secretRef) {
      const s = src.secret(ns, from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new EnvConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const k of Object.keys((s as Json).data ?? {})) set(prefix + k, decodeSecret(s, k) ?? '');
    }
  }
  const lookup = (n: string) => result.get(n);
  for (const e of container.env ?? []) {
    const name = String(e.name);
    if (e.value !== undefined && e.value !== null) {
      set(name, expand(String(e.value), lookup));
      continue;
    }
    const vf = e.valueFrom;
    if (!vf) {
      set(name, '');
      continue;
    }
    if (vf.fieldRef) set(name, fieldPathValue(pod, String(vf.fieldRef.fieldPath), src));
    else if (vf.resourceFieldRef) set(name, resourceFieldValue(pod, container.name, vf.resourceFieldRef, src));
    else if (vf.configMapKeyRef) {
      const r = vf.configMapKeyRef;
      const cm = src.configMap(ns, r.name);
      if (!cm) {
        if (r.optional) continue;
        throw new EnvConfigError(`configmap "${r.name}" not found`);
      }
      const v = (cm as Json).data?.[r.key] ?? ((cm as Json).binaryData?.[r.key] !== undefined ? Buffer.from((cm as Json).binaryData[r.key], 'base64').toString('utf8') : undefined);
      if (v === undefined) {
        if (r.optional) continue;
        throw new EnvConfigError(`couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}`);
      }
      set(name, v);
    } else if (vf.secretKeyRef) {
      const r = vf.secretKeyRef;
      const s = src.secret(ns, r.name);
      if (!s) {
        if (r.optional) continue;
        throw new EnvConfigError(`secret "${r.name}" not found`);
      }
      const v = decodeSecret(s, r.key);
      if (v === undefined) {
        if (r.optional) continue;
        throw new EnvConfigError(`couldn't find key ${r.key} in Secret ${ns}/${r.name}`);
      }
      set(name, v);
    }
  }
  return [...result].map(([name, value]) => ({ name, value }));
}

/** command/args with $(VAR) expanded from the container's final environment. */
export function expandCommand(list: string[] | undefined, env: { name: string; value: string }[]): string[] {
  const m = new Map(env.map((e) => [e.name, e.value]));
  return (list ?? []).map((s) => expand(String(s), (n) => m.get(n)));
}
