// networking.k8s.io/v1: ingresses, ingressclasses, networkpolicies
// (pkg/apis/networking/v1/defaults.go, pkg/apis/networking/validation).
import { isIP } from 'node:net';
import type { FieldError, KObject, ResourceDecl } from '../types.js';
import { forbidden, invalid, notSupported, required, tooLong } from '../validation/field.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.js';
import { age, formatLabelSelector } from '../printers/util.js';
import { AGE, NAME, col, ensure, immutable, setDefault, validateLabelSelector } from './common.js';

type J = Record<string, any>;

// ---- ports ---------------------------------------------------------------

/** IsValidPortNum. */
export function portNumErrors(v: unknown): string[] {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** IsValidPortName (IANA_SVC_NAME). */
export function portNameErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.length > 0 && !/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

// ---- Ingress -------------------------------------------------------------

function validateBackend(b: J | undefined, p: string): FieldError[] {
  if (!b) return [required(p, '')];
  const errs: FieldError[] = [];
  if (b.resource && b.service) return [invalid(p, '', 'cannot set both resource and service backends')];
  if (b.resource) {
    if (!b.resource.kind) errs.push(required(`${p}.resource.kind`, ''));
    if (!b.resource.name) errs.push(required(`${p}.resource.name`, ''));
    return errs;
  }
  if (!b.service) return [invalid(p, '', 'resource or service backend is required')];
  const svc = b.service;
  if (!svc.name) errs.push(required(`${p}.service.name`, ''));
  else for (const m of isDNS1035Label(svc.name)) errs.push(invalid(`${p}.service.name`, svc.name, m));
  const hasName = typeof svc.port?.name === 'string' && svc.port.name.length > 0;
  const hasNumber = svc.port?.number != null && svc.port.number !== 0;
  if (hasName && hasNumber) errs.push(invalid(p, '', 'cannot set both port name & port number'));
  else if (hasName) for (const m of portNameErrors(svc.port.name)) errs.push(invalid(`${p}.service.port.name`, svc.port.name, m));
  else if (hasNumber) for (const m of portNumErrors(svc.port.number)) errs.push(invalid(`${p}.service.port.number`, svc.port.number, m));
  else errs.push(required(p, 'port name or number is required'));
  return errs;
}

function validateHost(host: string, p: string): FieldError[] {
  if (isIP(host)) return [invalid(p, host, 'must be a DNS name, not an IP address')];
  if (host.includes('*')) {
    // IsWildcardDNS1123Subdomain: "*." followed by a subdomain.
    if (!/^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host)) {
      return [
        invalid(
          p,
          host,
          "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
      ];
    }
    return [];
  }
  return isDNS1123Subdomain(host).map((m) => invalid(p, host, m));
}

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];

export function validateIngress(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const rules: J[] = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) errs.push(invalid('spec', rules, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (spec.ingressClassName != null) for (const m of isDNS1123Subdomain(spec.ingressClassName)) errs.push(invalid('spec.ingressClassName', spec.ingressClassName, m));
  rules.forEach((rule, i) => {
    const rp = `spec.rules[${i}]`;
    if (rule.host) errs.push(...validateHost(rule.host, `${rp}.host`));
    if (!rule.http) return;
    const paths: J[] = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(required(`${rp}.http.paths`, ''));
    paths.forEach((path, j) => {
      const pp = `${rp}.http.paths[${j}]`;
      if (path.pathType == null) errs.push(required(`${pp}.pathType`, 'pathType must be specified'));
      else if (!pathTypes.includes(path.pathType)) errs.push(notSupported(`${pp}.pathType`, path.pathType, pathTypes));
      else if (path.pathType === 'Exact' || path.pathType === 'Prefix') {
        if (!String(path.path ?? '').startsWith('/')) errs.push(invalid(`${pp}.path`, path.path ?? '', 'must be an absolute path'));
        else if (/\/\/|\/\.\.?(\/|$)/.test(path.path) || path.path.includes('%2f') || path.path.includes('%2F')) {
          errs.push(invalid(`${pp}.path`, path.path, "must not contain '//', '/./', '/../', '%2f' or end with '/.' or '/..'"));
        }
      } else if (path.path && !String(path.path).startsWith('/')) errs.push(invalid(`${pp}.path`, path.path, 'must be an absolute path'));
      errs.push(...validateBackend(path.backend, `${pp}.backend`));
    });
  });
  (spec.tls ?? []).forEach((tls: J, i: number) => {
    (tls.hosts ?? []).forEach((h: string, j: number) => errs.push(...validateHost(h, `spec.tls[${i}].hosts[${j}]`)));
    if (tls.secretName) for (const m of isDNS1123Subdomain(tls.secretName)) errs.push(invalid(`spec.tls[${i}].secretName`, tls.secretName, m));
  });
  return errs;
}

/** formatHosts: up to three hosts, "*" when none. */
function formatHosts(rules: J[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const rule of rules ?? []) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${(rules ?? []).length - max} more...` : ret;
}

/** ingressLoadBalancerStatusStringer: sorted unique IPs/hostnames, clipped to 16 bytes unless wide. */
export function loadBalancerAddresses(lb: J | undefined, wide = false): string {
  const set = new Set<string>();
  for (const ing of lb?.ingress ?? []) {
    if (ing.ip) set.add(ing.ip);
    else if (ing.hostname) set.add(ing.hostname);
  }
  const r = [...set].sort().join(',');
  return !wide && r.length > 16 ? `${r.slice(0, 13)}...` : r;
}

export const ingresses: ResourceDecl = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Class', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      AGE,
    ],
    cells(obj, now) {
      const spec = obj.spec ?? {};
      return [
        obj.metadata.name,
        spec.ingressClassName ?? '<none>',
        formatHosts(spec.rules),
        loadBalancerAddresses(obj.status?.loadBalancer),
        (spec.tls ?? []).length > 0 ? '80, 443' : '80',
        age(obj.metadata.creationTimestamp, now),
      ];
    },
  },
  // networking/v1 has no Ingress defaults (pathType is required, not defaulted).
  strategy: { validate: validateIngress },
};

// ---- IngressClass --------------------------------------------------------

export const ingressclasses: ResourceDecl = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  generation: true,
  printer: {
    columns: [
      NAME,
      col('Controller', 'Controller that is responsible for handling this class'),
      col('Parameters', 'A reference to a resource with additional parameters'),
      AGE,
    ],
    cells(obj, now) {
      const p = obj.spec?.parameters;
      let parameters = '<none>';
      if (p) parameters = `${p.kind}${p.apiGroup != null ? `.${p.apiGroup}` : ''}/${p.name}`;
      return [obj.metadata.name, obj.spec?.controller ?? '', parameters, age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    defaults(obj) {
      const p = obj.spec?.parameters;
      if (p && typeof p === 'object') setDefault(p, 'scope', 'Cluster');
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      const c = spec.controller;
      if (!c) errs.push(required('spec.controller', ''));
      else {
        if (c.length > 250) errs.push(tooLong('spec.controller', c, 250));
        const slash = c.indexOf('/');
        if (slash <= 0) errs.push(invalid('spec.controller', c, 'must be a domain-prefixed path (such as "acme.io/foo")'));
        else for (const m of isDNS1123Subdomain(c.slice(0, slash))) errs.push(invalid('spec.controller', c.slice(0, slash), m));
      }
      const p = spec.parameters;
      if (p) {
        if (!p.kind) errs.push(required('spec.parameters.kind', ''));
        if (!p.name) errs.push(required('spec.parameters.name', ''));
        if (p.scope != null && p.scope !== 'Cluster' && p.scope !== 'Namespace') errs.push(notSupported('spec.parameters.scope', p.scope, ['Cluster', 'Namespace']));
        if (p.scope === 'Namespace' && !p.namespace) errs.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
        if (p.scope === 'Cluster' && p.namespace) errs.push(forbidden('spec.parameters.namespace', '`parameters.scope` is set to "Cluster"'));
      }
      return errs;
    },
    validateUpdate(obj, old) {
      return immutable(obj.spec?.controller, old.spec?.controller, 'spec.controller');
    },
  },
};

// ---- NetworkPolicy -------------------------------------------------------

function validatePolicyPorts(ports: J[] | undefined, p: string): FieldError[] {
  const errs: FieldError[] = [];
  (ports ?? []).forEach((port, i) => {
    const pp = `${p}.ports[${i}]`;
    if (port.protocol != null && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) errs.push(notSupported(`${pp}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
    if (port.port != null) {
      if (typeof port.port === 'number') for (const m of portNumErrors(port.port)) errs.push(invalid(`${pp}.port`, port.port, m));
      else for (const m of portNameErrors(String(port.port))) errs.push(invalid(`${pp}.port`, port.port, m));
    }
    if (port.endPort != null) {
      if (port.port == null) errs.push(required(`${pp}.port`, 'must be specified when endPort is specified'));
      else if (typeof port.port !== 'number') errs.push(required(`${pp}.port`, 'must be a numerical port when endPort is specified'));
      else if (port.endPort < port.port) errs.push(invalid(`${pp}.endPort`, port.endPort, 'must be greater than or equal to `port`'));
    }
  });
  return errs;
}

function validatePeers(peers: J[] | undefined, p: string): FieldError[] {
  const errs: FieldError[] = [];
  (peers ?? []).forEach((peer, i) => {
    const pp = `${p}[${i}]`;
    const count = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer?.[k] != null).length;
    if (count === 0) errs.push(required(pp, 'must specify a peer'));
    else if (peer.ipBlock && count > 1) errs.push(forbidden(pp, 'may not specify both ipBlock and another peer'));
    errs.push(...validateLabelSelector(peer?.podSelector, `${pp}.podSelector`));
    errs.push(...validateLabelSelector(peer?.namespaceSelector, `${pp}.namespaceSelector`));
    if (peer?.ipBlock && !peer.ipBlock.cidr) errs.push(required(`${pp}.ipBlock.cidr`, ''));
  });
  return errs;
}

export const networkpolicies: ResourceDecl = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  shortNames: ['netpol'],
  namespaced: true,
  generation: true,
  printer: {
    columns: [NAME, col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), AGE],
    cells(obj, now) {
      return [obj.metadata.name, formatLabelSelector(obj.spec?.podSelector ?? {}), age(obj.metadata.creationTimestamp, now)];
    },
  },
  strategy: {
    defaults(obj) {
      const spec = ensure(obj, 'spec');
      // Any policy that does not specify policyTypes implies at least "Ingress".
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
        spec.policyTypes = ['Ingress'];
        if (Array.isArray(spec.egress) && spec.egress.length > 0) spec.policyTypes.push('Egress');
      }
      for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const port of rule?.ports ?? []) setDefault(port, 'protocol', 'TCP');
    },
    validate(obj) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [];
      errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
      (spec.ingress ?? []).forEach((r: J, i: number) => {
        errs.push(...validatePolicyPorts(r.ports, `spec.ingress[${i}]`));
        errs.push(...validatePeers(r.from, `spec.ingress[${i}].from`));
      });
      (spec.egress ?? []).forEach((r: J, i: number) => {
        errs.push(...validatePolicyPorts(r.ports, `spec.egress[${i}]`));
        errs.push(...validatePeers(r.to, `spec.egress[${i}].to`));
      });
      const types: unknown[] = spec.policyTypes ?? [];
      types.forEach((t, i) => {
        if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(`spec.policyTypes[${i}]`, t, ['Egress', 'Ingress']));
      });
      if (types.length > 2) errs.push(invalid('spec.policyTypes', types, 'may not have more than 2 policyTypes'));
      return errs;
    },
  },
};

export const networkingResources: ResourceDecl[] = [ingresses, ingressclasses, networkpolicies];
