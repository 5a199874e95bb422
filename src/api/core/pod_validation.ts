// ValidatePodSpec and friends (pkg/apis/core/validation), for the mistakes users make most,
// with upstream's field paths and messages.
import type { FieldError } from '../types.js';
import { duplicate, forbidden, invalid, notFound, notSupported, required } from '../validation/field.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateAnnotations, validateLabels } from '../validation/names.js';
import { quantityOf } from '../quantity.js';
import { arr, deepEqual, isObj, type Json, validateEnum, validateRefName, validateResourceList, clone, isConfigMapKey } from './helpers.js';
import { volumeSourceKeys } from './pod_defaults.js';

const portNameCharsetRe = /^[-a-z0-9]+$/;
const portNameOneLetterRe = /[a-z]/;

export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!portNameCharsetRe.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!portNameOneLetterRe.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isValidPortNum(p: unknown): string[] {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export function isEnvVarName(name: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(name))
    errs.push(
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    );
  if (name === '.') errs.push("must not be '.'");
  else if (name === '..') errs.push("must not be '..'");
  else if (name.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

const dnsLabel = (v: unknown, field: string): FieldError[] =>
  typeof v !== 'string' ? [invalid(field, v, 'must be a string')] : isDNS1123Label(v).map((m) => invalid(field, v, m));

export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];

function validatePorts(ports: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(ports).forEach((p, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(p)) return void errs.push(invalid(f, p, 'must be an object'));
    if (typeof p.name === 'string' && p.name.length > 0) {
      const msgs = isValidPortName(p.name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(`${f}.name`, p.name, m));
      else if (names.has(p.name)) errs.push(duplicate(`${f}.name`, p.name));
      else names.add(p.name);
    }
    if (!p.containerPort) errs.push(required(`${f}.containerPort`));
    else for (const m of isValidPortNum(p.containerPort)) errs.push(invalid(`${f}.containerPort`, p.containerPort, m));
    if (p.hostPort) for (const m of isValidPortNum(p.hostPort)) errs.push(invalid(`${f}.hostPort`, p.hostPort, m));
    if (!p.protocol) errs.push(required(`${f}.protocol`));
    else if (!supportedPortProtocols.includes(p.protocol)) errs.push(notSupported(`${f}.protocol`, p.protocol, supportedPortProtocols));
  });
  return errs;
}

function validateEnv(env: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((e, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(e)) return void errs.push(invalid(f, e, 'must be an object'));
    if (!e.name) errs.push(required(`${f}.name`));
    else for (const m of isEnvVarName(String(e.name))) errs.push(invalid(`${f}.name`, e.name, m));
    if (isObj(e.valueFrom)) {
      const vf = e.valueFrom;
      const set = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => vf[k] !== undefined && vf[k] !== null);
      if (typeof e.value === 'string' && e.value !== '') errs.push(invalid(`${f}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      if (set.length === 0)
        errs.push(required(`${f}.valueFrom`, 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (set.length > 1) errs.push(invalid(`${f}.valueFrom`, '', 'may not have more than one field specified at a time'));
      for (const k of ['configMapKeyRef', 'secretKeyRef']) {
        const ref = vf[k];
        if (!isObj(ref)) continue;
        if (!ref.key) errs.push(required(`${f}.valueFrom.${k}.key`));
        else for (const m of isConfigMapKey(String(ref.key))) errs.push(invalid(`${f}.valueFrom.${k}.key`, ref.key, m));
        if (!ref.name) errs.push(required(`${f}.valueFrom.${k}.name`));
      }
      if (isObj(vf.fieldRef) && !vf.fieldRef.fieldPath) errs.push(required(`${f}.valueFrom.fieldRef.fieldPath`));
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  arr(mounts).forEach((m, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(m)) return void errs.push(invalid(f, m, 'must be an object'));
    if (!m.name) errs.push(required(`${f}.name`));
    if (!volumes.has(m.name)) errs.push(notFound(`${f}.name`, m.name ?? ''));
    if (!m.mountPath) errs.push(required(`${f}.mountPath`));
    if (paths.has(m.mountPath)) errs.push(invalid(`${f}.mountPath`, m.mountPath, 'must be unique'));
    paths.add(m.mountPath);
    if (typeof m.subPath === 'string' && m.subPath) {
      if (m.subPath.startsWith('/')) errs.push(invalid(`${f}.subPath`, m.subPath, 'must be a relative path'));
      else if (m.subPath.split('/').includes('..')) errs.push(invalid(`${f}.subPath`, m.subPath, "must not contain '..'"));
    }
  });
  return errs;
}

const containerResourceNames = new Set(['cpu', 'memory', 'ephemeral-storage']);

function validateResources(res: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (res === undefined || res === null) return errs;
  if (!isObj(res)) return [invalid(field, res, 'must be an object')];
  for (const key of ['limits', 'requests']) {
    const list = res[key];
    errs.push(...validateResourceList(list, `${field}.${key}`, false));
    for (const name of Object.keys(isObj(list) ? list : {})) {
      const f = `${field}.${key}[${name}]`;
      if (!containerResourceNames.has(name) && !name.startsWith('hugepages-') && !name.includes('/'))
        errs.push(invalid(f, name, 'must be a standard resource for containers'));
      else for (const m of isQualifiedName(name)) errs.push(invalid(f, name, m));
    }
  }
  const limits = isObj(res.limits) ? res.limits : {};
  const requests = isObj(res.requests) ? res.requests : {};
  for (const [name, v] of Object.entries(requests)) {
    const q = quantityOf(v);
    const lim = quantityOf(limits[name]);
    if (!q) continue;
    const overcommit = !name.startsWith('hugepages-') && (containerResourceNames.has(name) || !name.includes('/'));
    if (lim) {
      if (!overcommit && q.cmp(lim) !== 0)
        errs.push(invalid(`${field}.requests`, q.toString(), `must be equal to ${name} limit of ${lim.toString()}`));
      else if (q.cmp(lim) > 0) errs.push(invalid(`${field}.requests`, q.toString(), `must be less than or equal to ${name} limit of ${lim.toString()}`));
    } else if (!overcommit) errs.push(required(`${field}.limits`, 'Limit must be set for non overcommitable resources'));
  }
  return errs;
}

function validateProbe(p: unknown, field: string): FieldError[] {
  if (!isObj(p)) return [];
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((k) => p[k] !== undefined && p[k] !== null);
  if (handlers.length === 0) errs.push(required(field, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(forbidden(`${field}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = p[k];
    if (typeof v === 'number' && v < 0) errs.push(invalid(`${field}.${k}`, v, 'must be greater than or equal to 0'));
  }
  if (isObj(p.httpGet)) {
    const port = p.httpGet.port;
    if (port === undefined || port === null || port === '') errs.push(required(`${field}.httpGet.port`));
    else if (typeof port === 'number') for (const m of isValidPortNum(port)) errs.push(invalid(`${field}.httpGet.port`, port, m));
    else for (const m of isValidPortName(String(port))) errs.push(invalid(`${field}.httpGet.port`, port, m));
    if (p.httpGet.scheme && !['HTTP', 'HTTPS'].includes(p.httpGet.scheme))
      errs.push(notSupported(`${field}.httpGet.scheme`, p.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (isObj(p.tcpSocket)) {
    const port = p.tcpSocket.port;
    if (port === undefined || port === null || port === '') errs.push(required(`${field}.tcpSocket.port`));
    else if (typeof port === 'number') for (const m of isValidPortNum(port)) errs.push(invalid(`${field}.tcpSocket.port`, port, m));
  }
  if (isObj(p.exec) && arr(p.exec.command).length === 0) errs.push(required(`${field}.exec.command`));
  return errs;
}

function validateContainer(c: Record<string, Json>, field: string, volumes: Set<string>, isInit: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(`${field}.name`));
  else errs.push(...dnsLabel(c.name, `${field}.name`));
  if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) errs.push(required(`${field}.image`));
  else if (typeof c.image === 'string' && c.image !== c.image.trim())
    errs.push(invalid(`${field}.image`, c.image, 'must not have leading or trailing whitespace'));
  errs.push(...validatePorts(c.ports, `${field}.ports`));
  errs.push(...validateEnv(c.env, `${field}.env`));
  for (const [i, ef] of arr(c.envFrom).entries()) {
    if (!isObj(ef)) continue;
    const set = ['configMapRef', 'secretRef'].filter((k) => isObj(ef[k]));
    if (set.length === 0) errs.push(invalid(`${field}.envFrom[${i}]`, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (set.length > 1) errs.push(invalid(`${field}.envFrom[${i}]`, '', 'may not have more than one field specified at a time'));
    for (const k of set) errs.push(...validateRefName(ef[k].name, `${field}.envFrom[${i}].${k}.name`));
  }
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${field}.volumeMounts`));
  errs.push(...validateResources(c.resources, `${field}.resources`));
  errs.push(...validateEnum(c.imagePullPolicy, `${field}.imagePullPolicy`, pullPolicies, true));
  errs.push(...validateEnum(c.terminationMessagePolicy, `${field}.terminationMessagePolicy`, terminationMessagePolicies, true));
  if (!isInit || c.restartPolicy === 'Always') {
    errs.push(...validateProbe(c.livenessProbe, `${field}.livenessProbe`));
    errs.push(...validateProbe(c.readinessProbe, `${field}.readinessProbe`));
    errs.push(...validateProbe(c.startupProbe, `${field}.startupProbe`));
    if (isObj(c.livenessProbe) && typeof c.livenessProbe.successThreshold === 'number' && c.livenessProbe.successThreshold !== 1)
      errs.push(invalid(`${field}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'));
  } else {
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      if (c[k] !== undefined && c[k] !== null) errs.push(forbidden(`${field}.${k}`, `may not be set for init containers without restartPolicy=Always`));
  }
  if (isInit && c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(...validateEnum(c.restartPolicy, `${field}.restartPolicy`, ['Always']));
  if (!isInit && c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(forbidden(`${field}.restartPolicy`, 'may not be set for non-init containers'));
  return errs;
}

function validateKeyToPaths(items: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(items).forEach((it, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(it)) return;
    if (!it.key) errs.push(required(`${f}.key`));
    if (!it.path) errs.push(required(`${f}.path`));
    else if (String(it.path).startsWith('/')) errs.push(invalid(`${f}.path`, it.path, 'must be a relative path'));
    else if (String(it.path).split('/').includes('..')) errs.push(invalid(`${f}.path`, it.path, "must not contain '..'"));
    errs.push(...validateMode(it.mode, `${f}.mode`));
  });
  return errs;
}

function validateMode(mode: unknown, field: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  if (typeof mode !== 'number' || mode < 0 || mode > 0o777)
    return [invalid(field, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
  return [];
}

function validateVolumeSource(v: Record<string, Json>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const set = volumeSourceKeys.filter((k) => v[k] !== undefined && v[k] !== null);
  if (set.length === 0) return [required(field, 'must specify a volume type')];
  for (const k of set.slice(1)) errs.push(forbidden(`${field}.${k}`, 'may not specify more than 1 volume type'));
  if (isObj(v.hostPath)) {
    if (!v.hostPath.path) errs.push(required(`${field}.hostPath.path`));
    const types = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
    if (v.hostPath.type !== undefined && !types.includes(v.hostPath.type)) errs.push(notSupported(`${field}.hostPath.type`, v.hostPath.type, types));
  }
  if (isObj(v.secret)) {
    if (!v.secret.secretName) errs.push(required(`${field}.secret.secretName`));
    else for (const m of isDNS1123Subdomain(String(v.secret.secretName))) errs.push(invalid(`${field}.secret.secretName`, v.secret.secretName, m));
    errs.push(...validateMode(v.secret.defaultMode, `${field}.secret.defaultMode`));
    errs.push(...validateKeyToPaths(v.secret.items, `${field}.secret.items`));
  }
  if (isObj(v.configMap)) {
    if (!v.configMap.name) errs.push(required(`${field}.configMap.name`));
    else for (const m of isDNS1123Subdomain(String(v.configMap.name))) errs.push(invalid(`${field}.configMap.name`, v.configMap.name, m));
    errs.push(...validateMode(v.configMap.defaultMode, `${field}.configMap.defaultMode`));
    errs.push(...validateKeyToPaths(v.configMap.items, `${field}.configMap.items`));
  }
  if (isObj(v.persistentVolumeClaim) && !v.persistentVolumeClaim.claimName) errs.push(required(`${field}.persistentVolumeClaim.claimName`));
  if (isObj(v.emptyDir)) {
    errs.push(...validateEnum(v.emptyDir.medium, `${field}.emptyDir.medium`, ['', 'Memory', 'HugePages']));
    if (v.emptyDir.sizeLimit !== undefined && !quantityOf(v.emptyDir.sizeLimit))
      errs.push(invalid(`${field}.emptyDir.sizeLimit`, v.emptyDir.sizeLimit, 'must be a valid quantity'));
  }
  if (isObj(v.nfs)) {
    if (!v.nfs.server) errs.push(required(`${field}.nfs.server`));
    if (!v.nfs.path) errs.push(required(`${field}.nfs.path`));
    else if (!String(v.nfs.path).startsWith('/')) errs.push(invalid(`${field}.nfs.path`, v.nfs.path, 'must be an absolute path'));
  }
  if (isObj(v.projected)) errs.push(...validateMode(v.projected.defaultMode, `${field}.projected.defaultMode`));
  if (isObj(v.downwardAPI)) errs.push(...validateMode(v.downwardAPI.defaultMode, `${field}.downwardAPI.defaultMode`));
  return errs;
}

/** Returns the errors and the set of volume names (for volumeMounts). */
export function validateVolumes(volumes: unknown, field: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(volumes).forEach((v, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(v)) return void errs.push(invalid(f, v, 'must be an object'));
    errs.push(...validateVolumeSource(v, f));
    if (!v.name) errs.push(required(`${f}.name`));
    else errs.push(...dnsLabel(v.name, `${f}.name`));
    if (names.has(v.name)) errs.push(duplicate(`${f}.name`, v.name));
    else if (v.name) names.add(v.name);
  });
  return { errs, names };
}

function validateTolerations(tolerations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(tolerations).forEach((t, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(t)) return;
    if (t.key) for (const m of isQualifiedName(String(t.key))) errs.push(invalid(`${f}.key`, t.key, m));
    if (!t.key && t.operator !== 'Exists') errs.push(invalid(`${f}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(invalid(`${f}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (t.operator ?? '') {
      case '':
      case 'Equal':
        break;
      case 'Exists':
        if (t.value) errs.push(invalid(`${f}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${f}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (t.effect) errs.push(...validateEnum(t.effect, `${f}.effect`, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return errs;
}

/** ValidatePodSpec at `fieldPath` (e.g. "spec" or "spec.template.spec"). */
export function validatePodSpec(spec: unknown, fieldPath: string): FieldError[] {
  if (!isObj(spec)) return [required(fieldPath)];
  const errs: FieldError[] = [];
  const { errs: volErrs, names: volumes } = validateVolumes(spec.volumes, `${fieldPath}.volumes`);
  errs.push(...volErrs);

  const containerNames = new Set<string>();
  const containers = arr(spec.containers);
  if (containers.length === 0) errs.push(required(`${fieldPath}.containers`));
  arr(spec.initContainers).forEach((c, i) => {
    const f = `${fieldPath}.initContainers[${i}]`;
    if (!isObj(c)) return void errs.push(invalid(f, c, 'must be an object'));
    errs.push(...validateContainer(c, f, volumes, true));
    if (c.name && containerNames.has(c.name)) errs.push(duplicate(`${f}.name`, c.name));
    else if (c.name) containerNames.add(c.name);
  });
  containers.forEach((c, i) => {
    const f = `${fieldPath}.containers[${i}]`;
    if (!isObj(c)) return void errs.push(invalid(f, c, 'must be an object'));
    errs.push(...validateContainer(c, f, volumes, false));
    if (c.name && containerNames.has(c.name)) errs.push(duplicate(`${f}.name`, c.name));
    else if (c.name) containerNames.add(c.name);
  });

  errs.push(...validateEnum(spec.restartPolicy, `${fieldPath}.restartPolicy`, restartPolicies, true));
  errs.push(...validateEnum(spec.dnsPolicy, `${fieldPath}.dnsPolicy`, dnsPolicies, true));
  if (spec.dnsPolicy === 'None' && !(isObj(spec.dnsConfig) && arr(spec.dnsConfig.nameservers).length > 0))
    errs.push(required(`${fieldPath}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when DNSPolicy is None'));
  errs.push(...validateLabels(spec.nodeSelector, `${fieldPath}.nodeSelector`));
  if (spec.serviceAccountName)
    for (const m of isDNS1123Subdomain(String(spec.serviceAccountName))) errs.push(invalid(`${fieldPath}.serviceAccountName`, spec.serviceAccountName, m));
  if (spec.nodeName) for (const m of isDNS1123Subdomain(String(spec.nodeName))) errs.push(invalid(`${fieldPath}.nodeName`, spec.nodeName, m));
  if (spec.hostname) errs.push(...dnsLabel(spec.hostname, `${fieldPath}.hostname`));
  if (spec.subdomain) errs.push(...dnsLabel(spec.subdomain, `${fieldPath}.subdomain`));
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (typeof ads !== 'number' || ads < 1 || ads > 2147483647))
    errs.push(invalid(`${fieldPath}.activeDeadlineSeconds`, ads, 'must be between 1 and 2147483647, inclusive'));
  errs.push(...validateTolerations(spec.tolerations, `${fieldPath}.tolerations`));
  arr(spec.imagePullSecrets).forEach((s, i) => {
    if (isObj(s) && !s.name) errs.push(required(`${fieldPath}.imagePullSecrets[${i}].name`));
  });
  if (spec.hostNetwork === true)
    for (const [ci, c] of containers.entries())
      for (const [pi, p] of arr(isObj(c) ? c.ports : []).entries())
        if (isObj(p) && p.hostPort && p.hostPort !== p.containerPort)
          errs.push(invalid(`${fieldPath}.containers[${ci}].ports[${pi}].containerPort`, p.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
  return errs;
}

/** Validates a PodTemplateSpec at `fieldPath` (e.g. "spec.template"). */
export function validatePodTemplateSpec(template: unknown, fieldPath: string): FieldError[] {
  if (!isObj(template)) return [required(fieldPath)];
  const errs: FieldError[] = [];
  const md = isObj(template.metadata) ? template.metadata : {};
  errs.push(...validateLabels(md.labels, `${fieldPath}.metadata.labels`));
  errs.push(...validateAnnotations(md.annotations, `${fieldPath}.metadata.annotations`));
  errs.push(...validatePodSpec(template.spec, `${fieldPath}.spec`));
  return errs;
}

export const podUpdateForbiddenMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate's spec part: only images, activeDeadlineSeconds, tolerations additions … may change. */
export function validatePodSpecUpdate(newSpec: unknown, oldSpec: unknown): FieldError[] {
  if (!isObj(newSpec) || !isObj(oldSpec)) return [];
  const errs: FieldError[] = [];
  const oldAds = oldSpec.activeDeadlineSeconds;
  const newAds = newSpec.activeDeadlineSeconds;
  if (typeof oldAds === 'number') {
    if (newAds === undefined || newAds === null)
      errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
    else if (typeof newAds === 'number' && newAds > oldAds)
      errs.push(invalid('spec.activeDeadlineSeconds', newAds, 'must be less than or equal to previous value'));
  }
  const mutated = clone(newSpec);
  for (const kind of ['containers', 'initContainers']) {
    const nc = arr(mutated[kind]);
    const oc = arr(oldSpec[kind]);
    if (nc.length === oc.length) nc.forEach((c, i) => isObj(c) && isObj(oc[i]) && (c.image = oc[i].image));
  }
  mutated.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  if (mutated.activeDeadlineSeconds === undefined) delete mutated.activeDeadlineSeconds;
  // Tolerations may only be added (or have tolerationSeconds shortened).
  const oldTol = arr(oldSpec.tolerations);
  const newTol = arr(newSpec.tolerations);
  if (oldTol.every((t) => newTol.some((n) => deepEqual(n, t)))) {
    if (oldSpec.tolerations === undefined) delete mutated.tolerations;
    else mutated.tolerations = oldSpec.tolerations;
  }
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && newSpec.terminationGracePeriodSeconds === 1) mutated.terminationGracePeriodSeconds = oldGrace;
  // Scheduling gates may be removed.
  const oldGates = arr(oldSpec.schedulingGates);
  const newGates = arr(newSpec.schedulingGates);
  if (newGates.every((g) => oldGates.some((o) => deepEqual(o, g)))) {
    if (oldSpec.schedulingGates === undefined) delete mutated.schedulingGates;
    else mutated.schedulingGates = oldSpec.schedulingGates;
  }
  if (!deepEqual(mutated, oldSpec)) errs.push(forbidden('spec', podUpdateForbiddenMessage));
  return errs;
}
