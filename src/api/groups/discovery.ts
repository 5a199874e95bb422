// discovery.k8s.io/v1: endpointslices (pkg/apis/discovery/validation, printers.go).
import { isIP } from 'node:net';
import type { FieldError, ResourceDecl } from '../types.js';
import { invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation/names.js';
import { age } from '../printers/util.js';
import { AGE, NAME, col, immutable, setDefault } from './common.js';
import { portNumErrors } from './networking.js';

type J = Record<string, any>;
const addressTypes = ['IPv4', 'IPv6', 'FQDN'];

/** listWithMoreString: the first three, "+ N more...", or "<unset>" when empty. */
function listWithMore(items: string[], max = 3): string {
  const ret = items.slice(0, max).join(',');
  if (items.length > max) return `${ret} + ${items.length - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

export function formatDiscoveryPorts(ports: J[] | undefined): string {
  return listWithMore((ports ?? []).map((p) => (p.port != null ? String(p.port) : p.name != null ? p.name : '*')));
}

export function formatDiscoveryEndpoints(endpoints: J[] | undefined): string {
  return listWithMore((endpoints ?? []).flatMap((e) => e.addresses ?? []));
}

export const endpointslices: ResourceDecl = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  generation: true,
  printer: {
    columns: [
      NAME,
      col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
      col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
      AGE,
    ],
    cells(obj, now) {
      return [obj.metadata.name, obj.addressType ?? '', formatDiscoveryPorts(obj.ports), formatDiscoveryEndpoints(obj.endpoints), age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    defaults(obj) {
      for (const p of Array.isArray(obj.ports) ? obj.ports : []) {
        if (p && typeof p === 'object') {
          setDefault(p, 'protocol', 'TCP');
          setDefault(p, 'name', '');
        }
      }
    },
    validate(obj) {
      const errs: FieldError[] = [];
      if (!obj.addressType) errs.push(required('addressType', ''));
      else if (!addressTypes.includes(obj.addressType)) errs.push(notSupported('addressType', obj.addressType, addressTypes));
      const endpoints: J[] = obj.endpoints ?? [];
      if (endpoints.length > 1000) errs.push({ type: 'FieldValueTooMany', field: 'endpoints', badValue: endpoints.length, detail: 'must have at most 1000 items' });
      endpoints.forEach((ep, i) => {
        const addrs: string[] = ep.addresses ?? [];
        if (addrs.length === 0) errs.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
        else if (addrs.length > 100) errs.push(invalid(`endpoints[${i}].addresses`, addrs.length, 'must have at most 100 addresses'));
        addrs.forEach((a, j) => {
          const p = `endpoints[${i}].addresses[${j}]`;
          if (obj.addressType === 'IPv4' && isIP(a) !== 4) errs.push(invalid(p, a, 'must be a valid IPv4 address'));
          else if (obj.addressType === 'IPv6' && isIP(a) !== 6) errs.push(invalid(p, a, 'must be a valid IPv6 address'));
          else if (obj.addressType === 'FQDN') for (const m of isDNS1123Subdomain(a)) errs.push(invalid(p, a, m));
        });
      });
      const ports: J[] = obj.ports ?? [];
      if (ports.length > 100) errs.push({ type: 'FieldValueTooMany', field: 'ports', badValue: ports.length, detail: 'must have at most 100 items' });
      ports.forEach((p, i) => {
        // Slice port names copy Service port names: DNS-1123 labels ("80-8080" is valid), not IANA service names.
        if (p.name) for (const m of isDNS1123Label(p.name)) errs.push(invalid(`ports[${i}].name`, p.name, m));
        if (p.port != null) for (const m of portNumErrors(p.port)) errs.push(invalid(`ports[${i}].port`, p.port, m));
        if (p.protocol != null && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) errs.push(notSupported(`ports[${i}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
      });
      return errs;
    },
    validateUpdate(obj, old) {
      return immutable(obj.addressType, old.addressType, 'addressType');
    },
  },
};

export const discoveryResources: ResourceDecl[] = [endpointslices];
