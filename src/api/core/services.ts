// Services. ClusterIP and nodePort allocation is the API server's job; this file defaults,
// validates and prints.
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../validation/field.js';
import { isDNS1123Label, isDNS1123Subdomain, validateLabels } from '../validation/names.js';
import { age, ageColumn, formatLabels, nameColumn } from '../printers/util.js';
import { arr, col, deepEqual, isObj, type Json, setDefault, str, validateEnum } from './helpers.js';
import { isValidPortName, isValidPortNum, supportedPortProtocols } from './pod_validation.js';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

function externallyAccessible(spec: Record<string, Json>): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0);
}

export function defaultService(o: KObject): void {
  if (!isObj(o.spec)) o.spec = {};
  const spec = o.spec;
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    if (!isObj(spec.sessionAffinityConfig)) spec.sessionAffinityConfig = {};
    if (!isObj(spec.sessionAffinityConfig.clientIP)) spec.sessionAffinityConfig.clientIP = {};
    setDefault(spec.sessionAffinityConfig.clientIP, 'timeoutSeconds', 10800);
  }
  setDefault(spec, 'type', 'ClusterIP');
  for (const p of arr(spec.ports)) {
    if (!isObj(p)) continue;
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(spec)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    // What the IP allocator settles on in a single-stack IPv4 cluster.
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    if (arr(spec.ipFamilies).length === 0) spec.ipFamilies = ['IPv4'];
    if (spec.clusterIP && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
}

const isIPv4 = (s: string) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
const isIPv6 = (s: string) => s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
const isIP = (s: string) => isIPv4(s) || isIPv6(s);

export function validateService(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  errs.push(...validateEnum(spec.type, 'spec.type', serviceTypes, true));
  const ports = arr(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (spec.type === 'ExternalName') {
    if (!spec.externalName) errs.push(required('spec.externalName'));
    else for (const m of isDNS1123Subdomain(String(spec.externalName).replace(/\.$/, ''))) errs.push(invalid('spec.externalName', spec.externalName, m));
    if (spec.clusterIP) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  } else if (ports.length === 0 && !headless) errs.push(required('spec.ports'));

  const names = new Set<string>();
  const portProto = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (!isObj(p)) return void errs.push(invalid(f, p, 'must be an object'));
    if (ports.length > 1 && !p.name) errs.push(required(`${f}.name`));
    if (p.name) {
      for (const m of isDNS1123Label(String(p.name))) errs.push(invalid(`${f}.name`, p.name, m));
      if (names.has(p.name)) errs.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    for (const m of isValidPortNum(p.port)) errs.push(invalid(`${f}.port`, p.port ?? 0, m));
    if (!p.protocol) errs.push(required(`${f}.protocol`));
    else if (!supportedPortProtocols.includes(p.protocol)) errs.push(notSupported(`${f}.protocol`, p.protocol, supportedPortProtocols));
    const tp = p.targetPort;
    if (typeof tp === 'number') for (const m of isValidPortNum(tp)) errs.push(invalid(`${f}.targetPort`, tp, m));
    else if (typeof tp === 'string') for (const m of isValidPortName(tp)) errs.push(invalid(`${f}.targetPort`, tp, m));
    if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0) {
      if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer')
        errs.push(forbidden(`${f}.nodePort`, `may not be used when \`type\` is '${spec.type}'`));
      else for (const m of isValidPortNum(p.nodePort)) errs.push(invalid(`${f}.nodePort`, p.nodePort, m));
    }
    const key = `${p.port}/${p.protocol}`;
    if (portProto.has(key)) errs.push(duplicate(f, { port: p.port, protocol: p.protocol }));
    portProto.add(key);
  });
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateEnum(spec.sessionAffinity, 'spec.sessionAffinity', ['ClientIP', 'None']));
  if (spec.clusterIP && spec.clusterIP !== 'None' && !isIP(String(spec.clusterIP)))
    errs.push(invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  arr(spec.externalIPs).forEach((ip, i) => {
    if (!isIP(String(ip))) errs.push(invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  if (spec.externalTrafficPolicy !== undefined) {
    if (!externallyAccessible(spec))
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    else errs.push(...validateEnum(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', ['Cluster', 'Local']));
  }
  if (spec.internalTrafficPolicy !== undefined) errs.push(...validateEnum(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local']));
  if (spec.ipFamilyPolicy !== undefined) errs.push(...validateEnum(spec.ipFamilyPolicy, 'spec.ipFamilyPolicy', ['SingleStack', 'PreferDualStack', 'RequireDualStack']));
  arr(spec.ipFamilies).forEach((f, i) => errs.push(...validateEnum(f, `spec.ipFamilies[${i}]`, ['IPv4', 'IPv6'])));
  return errs;
}

export function validateServiceUpdate(o: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObj(o.spec) ? o.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  // ClusterIP is immutable except when changing to or from ExternalName.
  if (oldSpec.type !== 'ExternalName' && spec.type !== 'ExternalName') {
    if (oldSpec.clusterIP && spec.clusterIP !== undefined && spec.clusterIP !== oldSpec.clusterIP)
      errs.push(invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set'));
    if (arr(oldSpec.clusterIPs).length > 0 && arr(spec.clusterIPs).length > 0 && !deepEqual(spec.clusterIPs?.[0], oldSpec.clusterIPs[0]))
      if (!errs.length) errs.push(invalid('spec.clusterIPs[0]', spec.clusterIPs[0], 'may not change once set'));
  }
  return errs;
}

/** Upstream's loadBalancerStatusStringer (server tables are wide, so never clipped). */
function loadBalancerIPs(status: Json): string {
  const ips = new Set<string>();
  for (const i of arr(status?.loadBalancer?.ingress)) {
    if (!isObj(i)) continue;
    if (i.ip) ips.add(i.ip);
    else if (i.hostname) ips.add(i.hostname);
  }
  return [...ips].sort().join(',');
}

export function serviceExternalIP(svc: KObject): string {
  const spec = isObj(svc.spec) ? svc.spec : {};
  const ext = arr<string>(spec.externalIPs);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIPs(svc.status);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
  }
  return '<unknown>';
}

export function servicePorts(ports: unknown): string {
  return arr(ports)
    .map((p) => (p?.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p?.port}/${p?.protocol}`))
    .join(',');
}

export const services: ResourceDecl = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  nameValidation: 'dns1035Label',
  subresources: { status: true },
  generation: false,
  fieldSelectors: {
    'spec.clusterIP': (o) => str(o.spec?.clusterIP),
    'spec.type': (o) => str(o.spec?.type),
  },
  printer: {
    columns: [
      nameColumn,
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      ageColumn,
      col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells(svc, now) {
      const spec = isObj(svc.spec) ? svc.spec : {};
      const clusterIPs = arr<string>(spec.clusterIPs);
      const internalIP = clusterIPs.length ? clusterIPs[0]! : '<none>';
      return [
        svc.metadata.name,
        str(spec.type),
        internalIP,
        serviceExternalIP(svc),
        servicePorts(spec.ports) || '<none>',
        age(svc.metadata.creationTimestamp, now),
        formatLabels(isObj(spec.selector) ? spec.selector : undefined),
      ];
    },
  },
  strategy: {
    defaults: defaultService,
    prepareForCreate(o) {
      o.status = { loadBalancer: {} };
    },
    prepareForUpdate(o, old) {
      o.status = old.status;
    },
    validate: validateService,
    validateUpdate: validateServiceUpdate,
  },
};
