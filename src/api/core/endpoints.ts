// Endpoints (the legacy per-Service address list, still what `kubectl get ep` shows).
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Label } from '../validation/names.js';
import { age, ageColumn, nameColumn } from '../printers/util.js';
import { arr, col, isObj, setDefault, str } from './helpers.js';
import { isValidPortNum, supportedPortProtocols } from './pod_validation.js';

const joinHostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** formatEndpoints: the first three "ip:port" pairs, then "+ N more...". */
export function formatEndpoints(ep: KObject): string {
  const subsets = arr(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = arr(ss?.addresses);
    const ports = arr(ss?.ports);
    if (ports.length === 0) {
      // Headless services may have no ports.
      for (const a of addrs) {
        if (list.length === max) more = true;
        if (!more) list.push(str(a?.ip));
        count++;
      }
    } else {
      for (const p of ports) {
        for (const a of addrs) {
          if (list.length === max) more = true;
          if (!more) list.push(joinHostPort(str(a?.ip), Number(p?.port)));
          count++;
        }
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function validateEndpoints(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  arr(o.subsets).forEach((ss, i) => {
    const f = `subsets[${i}]`;
    if (!isObj(ss)) return;
    for (const key of ['addresses', 'notReadyAddresses'])
      arr(ss[key]).forEach((a, j) => {
        if (!isObj(a) || !a.ip) errs.push(required(`${f}.${key}[${j}].ip`));
        if (isObj(a) && a.hostname) for (const m of isDNS1123Label(String(a.hostname))) errs.push(invalid(`${f}.${key}[${j}].hostname`, a.hostname, m));
      });
    const ports = arr(ss.ports);
    ports.forEach((p, j) => {
      const pf = `${f}.ports[${j}]`;
      if (!isObj(p)) return;
      if (ports.length > 1 && !p.name) errs.push(required(`${pf}.name`));
      else if (p.name) for (const m of isDNS1123Label(String(p.name))) errs.push(invalid(`${pf}.name`, p.name, m));
      for (const m of isValidPortNum(p.port)) errs.push(invalid(`${pf}.port`, p.port ?? 0, m));
      if (!p.protocol) errs.push(required(`${pf}.protocol`));
      else if (!supportedPortProtocols.includes(p.protocol)) errs.push(notSupported(`${pf}.protocol`, p.protocol, supportedPortProtocols));
    });
  });
  return errs;
}

export const endpoints: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  allowCreateOnUpdate: true,
  nameValidation: 'dns1123Subdomain',
  printer: {
    columns: [nameColumn, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), ageColumn],
    cells: (o, now) => [o.metadata.name, formatEndpoints(o), age(o.metadata.creationTimestamp, now)],
  },
  strategy: {
    defaults(o) {
      for (const ss of arr(o.subsets)) for (const p of arr(ss?.ports)) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
    },
    validate: validateEndpoints,
  },
};
