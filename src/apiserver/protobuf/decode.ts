// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the
// JSON object upstream's API server would see, so the rest of the server only handles JSON.
//
// Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the 4 bytes "k8s\0", then
// a runtime.Unknown { typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4 }
// whose raw is the gogo-protobuf encoding of the object's Go struct. The message layouts come
// from schema.json (generated from kubectl's registered descriptors by scripts/gen-proto-schema.mjs).
//
// Zero values: gogo's marshaller always writes non-pointer scalar fields, while Go's JSON with
// `omitempty` drops them. We drop empty strings, zero numbers and false, except where the Go field
// is a pointer (then being on the wire means it was set, and zero is meaningful) or has no
// `omitempty` (KEEP_ZERO below). Embedded messages are kept even when empty (`{}`): gogo only
// writes a nested message for a non-pointer struct or a non-nil pointer, and Go's JSON prints
// both as `{}` (`podSelector: {}` selects everything). Repeated fields and maps with no entries
// never reach the wire, so they are simply absent.
import { badRequest } from '../errors.js';
import type { KObject } from '../../api/types.js';
import schemaFile from './schema.json' with { type: 'json' };

/** [number, jsonName, kind, typeName?, flags?] — see scripts/gen-proto-schema.mjs. */
type FieldSpec = [number, string, string, (string | null)?, number?];
interface Schema {
  source: string;
  messages: Record<string, FieldSpec[]>;
}
const schema = schemaFile as unknown as Schema;

const REPEATED = 1;
const INLINE = 2;

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
/** Where upstream's API server registers its types; appears in "no kind … is registered" errors. */
const SCHEME_NAME = 'k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const QUANTITY_VALUE = 'k8s.io.apimachinery.pkg.api.resource.QuantityValue';
const INT_OR_STRING = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const DURATION = `${META}.Duration`;
const FIELDS_V1 = `${META}.FieldsV1`;
const RAW_EXTENSION = 'k8s.io.apimachinery.pkg.runtime.RawExtension';
const APIEXT_JSON = /^k8s\.io\.apiextensions_apiserver\.pkg\.apis\.apiextensions\.v1(beta1)?\.JSON$/;
/** Named Go slices that go-to-protobuf wraps in a message with one `items` field. */
const WRAPPED_LISTS = /(\.ExtraValue|\.meta\.v1\.Verbs)$/;

// Fields whose zero value survives into JSON, keyed "<message short name>.<jsonName>" (all API
// versions of that message) or "<message full name>.<jsonName>" (where versions or groups differ).
// Almost all are pointers in the Go types (*int32, *int64, *bool, *string, *intstr.IntOrString):
// for those, presence on the wire means "set". A few (marked) are non-pointer fields without
// `omitempty`, which Go's JSON always prints.
export const KEEP_ZERO = new Set<string>([
  // meta/v1
  'ObjectMeta.deletionGracePeriodSeconds',
  'OwnerReference.controller', 'OwnerReference.blockOwnerDeletion',
  'DeleteOptions.gracePeriodSeconds', 'DeleteOptions.orphanDependents', 'DeleteOptions.propagationPolicy',
  'DeleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential',
  'Preconditions.uid', 'Preconditions.resourceVersion',
  'ListMeta.remainingItemCount',
  'ListOptions.timeoutSeconds', 'ListOptions.sendInitialEvents',
  'PatchOptions.force',
  // core/v1 pods and containers
  'PodSpec.terminationGracePeriodSeconds', 'PodSpec.activeDeadlineSeconds', 'PodSpec.automountServiceAccountToken',
  'PodSpec.shareProcessNamespace', 'PodSpec.priority', 'PodSpec.enableServiceLinks', 'PodSpec.preemptionPolicy',
  'PodSpec.hostUsers', 'PodSpec.setHostnameAsFQDN', 'PodSpec.runtimeClassName',
  'Container.restartPolicy', 'EphemeralContainerCommon.restartPolicy',
  'SecurityContext.privileged', 'SecurityContext.runAsUser', 'SecurityContext.runAsGroup', 'SecurityContext.runAsNonRoot',
  'SecurityContext.readOnlyRootFilesystem', 'SecurityContext.allowPrivilegeEscalation', 'SecurityContext.procMount',
  'PodSecurityContext.runAsUser', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.runAsNonRoot',
  'PodSecurityContext.fsGroup', 'PodSecurityContext.fsGroupChangePolicy', 'PodSecurityContext.supplementalGroupsPolicy',
  'PodSecurityContext.seLinuxChangePolicy',
  'WindowsSecurityContextOptions.gmsaCredentialSpecName', 'WindowsSecurityContextOptions.gmsaCredentialSpec',
  'WindowsSecurityContextOptions.runAsUserName', 'WindowsSecurityContextOptions.hostProcess',
  'SeccompProfile.localhostProfile', 'AppArmorProfile.localhostProfile',
  'Toleration.tolerationSeconds',
  'Probe.terminationGracePeriodSeconds', 'GRPCAction.service',
  'VolumeMount.mountPropagation', 'VolumeMount.recursiveReadOnly',
  'TopologySpreadConstraint.minDomains', 'TopologySpreadConstraint.nodeAffinityPolicy',
  'TopologySpreadConstraint.nodeTaintsPolicy',
  'PodDNSConfigOption.value',
  'PodResourceClaim.resourceClaimName', 'PodResourceClaim.resourceClaimTemplateName',
  'ContainerStatus.started',
  'ContainerPort.containerPort', // not a pointer, but no omitempty
  // core/v1 volumes
  'SecretVolumeSource.defaultMode', 'SecretVolumeSource.optional',
  'ConfigMapVolumeSource.defaultMode', 'ConfigMapVolumeSource.optional',
  'ProjectedVolumeSource.defaultMode', 'DownwardAPIVolumeSource.defaultMode',
  'KeyToPath.mode', 'DownwardAPIVolumeFile.mode',
  'SecretProjection.optional', 'ConfigMapProjection.optional', 'ServiceAccountTokenProjection.expirationSeconds',
  'ClusterTrustBundleProjection.name', 'ClusterTrustBundleProjection.signerName', 'ClusterTrustBundleProjection.optional',
  'ConfigMapKeySelector.optional', 'SecretKeySelector.optional', 'ConfigMapEnvSource.optional', 'SecretEnvSource.optional',
  'CSIVolumeSource.readOnly', 'CSIVolumeSource.fsType',
  'AzureDiskVolumeSource.cachingMode', 'AzureDiskVolumeSource.fsType', 'AzureDiskVolumeSource.readOnly',
  'AzureDiskVolumeSource.kind',
  'ISCSIVolumeSource.initiatorName', 'ISCSIPersistentVolumeSource.initiatorName',
  'PersistentVolumeClaimSpec.storageClassName', 'PersistentVolumeClaimSpec.volumeMode',
  'PersistentVolumeClaimSpec.volumeAttributesClassName',
  'PersistentVolumeSpec.volumeMode', 'PersistentVolumeSpec.volumeAttributesClassName',
  // core/v1 other objects
  'Secret.immutable', 'ConfigMap.immutable',
  'ServiceAccount.automountServiceAccountToken',
  'ServiceSpec.allocateLoadBalancerNodePorts', 'ServiceSpec.ipFamilyPolicy', 'ServiceSpec.loadBalancerClass',
  'ServiceSpec.internalTrafficPolicy', 'ServiceSpec.trafficDistribution',
  'ServicePort.appProtocol', 'ServicePort.port', // port: not a pointer, but no omitempty
  'EndpointPort.appProtocol', 'EndpointPort.port', // core/v1: port has no omitempty; discovery: all pointers
  'k8s.io.api.discovery.v1.EndpointPort.name', 'k8s.io.api.discovery.v1.EndpointPort.protocol',
  'k8s.io.api.discovery.v1beta1.EndpointPort.name', 'k8s.io.api.discovery.v1beta1.EndpointPort.protocol',
  'ClientIPConfig.timeoutSeconds',
  'ReplicationControllerSpec.replicas',
  'LoadBalancerIngress.ipMode', 'PortStatus.error',
  // apps
  'DeploymentSpec.replicas', 'DeploymentSpec.revisionHistoryLimit', 'DeploymentSpec.progressDeadlineSeconds',
  'RollingUpdateDeployment.maxUnavailable', 'RollingUpdateDeployment.maxSurge',
  'StatefulSetSpec.replicas', 'StatefulSetSpec.revisionHistoryLimit',
  'RollingUpdateStatefulSetStrategy.partition', 'RollingUpdateStatefulSetStrategy.maxUnavailable',
  'DaemonSetSpec.revisionHistoryLimit',
  'RollingUpdateDaemonSet.maxUnavailable', 'RollingUpdateDaemonSet.maxSurge',
  'ReplicaSetSpec.replicas',
  'DeploymentStatus.collisionCount', 'DeploymentStatus.terminatingReplicas', 'ReplicaSetStatus.terminatingReplicas',
  'StatefulSetStatus.collisionCount', 'DaemonSetStatus.collisionCount',
  // batch
  'JobSpec.parallelism', 'JobSpec.completions', 'JobSpec.activeDeadlineSeconds', 'JobSpec.backoffLimit',
  'JobSpec.backoffLimitPerIndex', 'JobSpec.maxFailedIndexes', 'JobSpec.ttlSecondsAfterFinished',
  'JobSpec.completionMode', 'JobSpec.suspend', 'JobSpec.podReplacementPolicy', 'JobSpec.managedBy',
  'JobSpec.manualSelector',
  'JobStatus.ready', 'JobStatus.failedIndexes', 'JobStatus.terminating',
  'PodFailurePolicyOnExitCodesRequirement.containerName',
  'SuccessPolicyRule.succeededIndexes', 'SuccessPolicyRule.succeededCount',
  'CronJobSpec.startingDeadlineSeconds', 'CronJobSpec.suspend', 'CronJobSpec.successfulJobsHistoryLimit',
  'CronJobSpec.failedJobsHistoryLimit', 'CronJobSpec.timeZone',
  // autoscaling
  'HorizontalPodAutoscalerSpec.minReplicas', 'HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage',
  'HorizontalPodAutoscalerStatus.observedGeneration', 'HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage',
  'MetricTarget.averageUtilization', 'MetricValueStatus.averageUtilization',
  'HPAScalingRules.stabilizationWindowSeconds', 'HPAScalingRules.selectPolicy',
  'ResourceMetricSource.targetAverageUtilization', 'ResourceMetricStatus.currentAverageUtilization',
  'ContainerResourceMetricSource.targetAverageUtilization', 'ContainerResourceMetricStatus.currentAverageUtilization',
  // policy
  'PodDisruptionBudgetSpec.minAvailable', 'PodDisruptionBudgetSpec.maxUnavailable',
  'PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy',
  // networking
  'NetworkPolicyPort.protocol', 'NetworkPolicyPort.port', 'NetworkPolicyPort.endPort',
  'IngressSpec.ingressClassName', 'HTTPIngressPath.pathType',
  'IngressClassParametersReference.apiGroup', 'IngressClassParametersReference.scope',
  'IngressClassParametersReference.namespace', 'IngressPortStatus.error',
  // discovery
  'Endpoint.hostname', 'Endpoint.nodeName', 'Endpoint.zone',
  'EndpointConditions.ready', 'EndpointConditions.serving', 'EndpointConditions.terminating',
  // rbac
  'RoleRef.apiGroup', // not a pointer, but no omitempty
  // scheduling
  'PriorityClass.preemptionPolicy', 'PriorityClass.value', // value: not a pointer, but no omitempty
  // storage
  'StorageClass.allowVolumeExpansion', 'StorageClass.reclaimPolicy', 'StorageClass.volumeBindingMode',
  'CSIDriverSpec.attachRequired', 'CSIDriverSpec.podInfoOnMount', 'CSIDriverSpec.fsGroupPolicy',
  'CSIDriverSpec.storageCapacity', 'CSIDriverSpec.requiresRepublish', 'CSIDriverSpec.seLinuxMount',
  'CSIDriverSpec.nodeAllocatableUpdatePeriodSeconds',
  'VolumeAttachmentSource.persistentVolumeName', 'VolumeNodeResources.count', 'VolumeError.errorCode',
  // coordination
  'LeaseSpec.holderIdentity', 'LeaseSpec.leaseDurationSeconds', 'LeaseSpec.leaseTransitions',
  'LeaseSpec.strategy', 'LeaseSpec.preferredHolder',
  // admissionregistration
  'MutatingWebhook.failurePolicy', 'MutatingWebhook.matchPolicy', 'MutatingWebhook.sideEffects',
  'MutatingWebhook.timeoutSeconds', 'MutatingWebhook.reinvocationPolicy',
  'ValidatingWebhook.failurePolicy', 'ValidatingWebhook.matchPolicy', 'ValidatingWebhook.sideEffects',
  'ValidatingWebhook.timeoutSeconds',
  'Rule.scope', 'WebhookClientConfig.url', 'ServiceReference.path', 'ServiceReference.port',
  'ValidatingAdmissionPolicySpec.failurePolicy', 'MutatingAdmissionPolicySpec.failurePolicy',
  'ParamRef.parameterNotFoundAction',
  // authentication
  'TokenRequestSpec.expirationSeconds',
  // flowcontrol
  'k8s.io.api.flowcontrol.v1.LimitedPriorityLevelConfiguration.nominalConcurrencyShares', // int32 in v1beta*
  'LimitedPriorityLevelConfiguration.lendablePercent',
  'LimitedPriorityLevelConfiguration.borrowingLimitPercent',
  'ExemptPriorityLevelConfiguration.nominalConcurrencyShares', 'ExemptPriorityLevelConfiguration.lendablePercent',
]);

/** The message-less kinds that meta/v1 registers into every group version (AddToGroupVersion). */
const META_KINDS = new Set(['DeleteOptions', 'ListOptions', 'GetOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'WatchEvent', 'Status']);

class Malformed extends Error {}

// ---- wire reader ---------------------------------------------------------------------------

interface WireField {
  no: number;
  wt: number;
  /** varint (wire type 0) */
  v?: bigint;
  /** bytes (2), fixed64 (1) or fixed32 (5) */
  b?: Buffer;
}

function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (let n = 0; ; n++) {
      if (i >= buf.length) throw new Malformed('unexpected EOF');
      if (n >= 10) throw new Malformed('integer overflow');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  const take = (n: number): Buffer => {
    if (n < 0 || i + n > buf.length) throw new Malformed('unexpected EOF');
    const b = buf.subarray(i, i + n);
    i += n;
    return b;
  };
  while (i < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (no <= 0) throw new Malformed(`illegal tag ${no} (wire type ${wt})`);
    switch (wt) {
      case 0:
        out.push({ no, wt, v: varint() });
        break;
      case 1:
        out.push({ no, wt, b: take(8) });
        break;
      case 2:
        out.push({ no, wt, b: take(Number(varint())) });
        break;
      case 5:
        out.push({ no, wt, b: take(4) });
        break;
      default:
        throw new Malformed(`illegal wireType ${wt} for field ${no}`);
    }
  }
  return out;
}

function scalar(kind: string, f: WireField): unknown {
  switch (kind) {
    case 'string':
      if (f.wt !== 2) break;
      return f.b!.toString('utf8');
    case 'bytes':
      if (f.wt !== 2) break;
      return f.b!.toString('base64');
    case 'bool':
      if (f.wt !== 0) break;
      return f.v !== 0n;
    case 'int32':
      if (f.wt !== 0) break;
      return Number(BigInt.asIntN(32, f.v!));
    case 'int64':
      if (f.wt !== 0) break;
      return Number(BigInt.asIntN(64, f.v!));
    case 'uint32':
      if (f.wt !== 0) break;
      return Number(BigInt.asUintN(32, f.v!));
    case 'uint64':
      if (f.wt !== 0) break;
      return Number(BigInt.asUintN(64, f.v!));
    case 'sint32':
    case 'sint64': {
      if (f.wt !== 0) break;
      const u = f.v!;
      return Number((u >> 1n) ^ -(u & 1n));
    }
    case 'double':
      if (f.wt !== 1) break;
      return f.b!.readDoubleLE(0);
    case 'fixed64':
      if (f.wt !== 1) break;
      return Number(f.b!.readBigUInt64LE(0));
    case 'sfixed64':
      if (f.wt !== 1) break;
      return Number(f.b!.readBigInt64LE(0));
    case 'float':
      if (f.wt !== 5) break;
      return f.b!.readFloatLE(0);
    case 'fixed32':
      if (f.wt !== 5) break;
      return f.b!.readUInt32LE(0);
    case 'sfixed32':
      if (f.wt !== 5) break;
      return f.b!.readInt32LE(0);
  }
  throw new Malformed(`wrong wireType = ${f.wt} for field of type ${kind}`);
}

/** Packed repeated numbers: one length-delimited field holding the values back to back. */
function unpack(kind: string, f: WireField): unknown[] {
  const b = f.b!;
  const out: unknown[] = [];
  if (['double', 'fixed64', 'sfixed64'].includes(kind)) {
    for (let i = 0; i + 8 <= b.length; i += 8) out.push(scalar(kind, { no: f.no, wt: 1, b: b.subarray(i, i + 8) }));
    return out;
  }
  if (['float', 'fixed32', 'sfixed32'].includes(kind)) {
    for (let i = 0; i + 4 <= b.length; i += 4) out.push(scalar(kind, { no: f.no, wt: 5, b: b.subarray(i, i + 4) }));
    return out;
  }
  // varints, back to back
  let i = 0;
  while (i < b.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= b.length) throw new Malformed('unexpected EOF');
      const c = b[i++]!;
      v |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) break;
      shift += 7n;
    }
    out.push(scalar(kind, { no: f.no, wt: 0, v }));
  }
  return out;
}

// ---- special types -------------------------------------------------------------------------

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** metav1.Time / MicroTime in UTC; undefined for the zero time (JSON null). */
function formatTime(fields: WireField[], micro: boolean): string | undefined {
  let seconds = 0;
  let nanos = 0;
  for (const f of fields) {
    if (f.no === 1) seconds = scalar('int64', f) as number;
    else if (f.no === 2) nanos = scalar('int32', f) as number;
  }
  if (seconds === 0 && nanos === 0) return undefined;
  const d = new Date(seconds * 1000);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

/** Go's time.Duration.String(). */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  const frac = (v: bigint, digits: number): string => {
    const s = v.toString().padStart(digits + 1, '0');
    const whole = s.slice(0, s.length - digits);
    const f = s.slice(s.length - digits).replace(/0+$/, '');
    return f ? `${whole}.${f}` : whole;
  };
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${frac(u, 3)}µs`;
    else out = `${frac(u, 6)}ms`;
  } else {
    const secNs = u % 60_000_000_000n;
    out = `${frac(secNs, 9)}s`;
    u /= 60_000_000_000n; // minutes
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Embedded raw bytes (RawExtension, apiextensions JSON, FieldsV1): JSON, or a nested protobuf object. */
function parseRaw(raw: Buffer, what: string): unknown {
  if (raw.length === 0) return undefined;
  if (raw.subarray(0, 4).equals(PROTOBUF_MAGIC)) return decodeUnknown(raw.subarray(4));
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new Malformed(`${what}: ${(e as Error).message}`);
  }
}

// ---- messages ------------------------------------------------------------------------------

interface Decoded {
  value: unknown;
  /** false when Go's JSON would leave the field out (zero scalar, zero time, empty raw). */
  present: boolean;
}

function decodeValue(kind: string, typeName: string | null | undefined, f: WireField, keepZero: boolean): Decoded {
  if (kind === 'message') {
    if (f.wt !== 2) throw new Malformed(`wrong wireType = ${f.wt} for field of type message`);
    return decodeMessageValue(typeName!, f.b!, keepZero);
  }
  const v = scalar(kind, f);
  return { value: v, present: keepZero || !(v === '' || v === 0 || v === false) };
}

function decodeMessageValue(type: string, buf: Buffer, keepZero: boolean): Decoded {
  switch (type) {
    case QUANTITY:
    case QUANTITY_VALUE: {
      let s = '';
      for (const f of readFields(buf)) if (f.no === 1) s = scalar('string', f) as string;
      // A Quantity always prints (a zero one as "0").
      return { value: s === '' ? '0' : s, present: true };
    }
    case INT_OR_STRING: {
      let t = 0;
      let i = 0;
      let s = '';
      for (const f of readFields(buf)) {
        if (f.no === 1) t = scalar('int64', f) as number;
        else if (f.no === 2) i = scalar('int32', f) as number;
        else if (f.no === 3) s = scalar('string', f) as string;
      }
      const value = t === 1 ? s : i;
      return { value, present: keepZero || (value !== 0 && value !== '') };
    }
    case TIME:
    case MICRO_TIME: {
      const value = formatTime(readFields(buf), type === MICRO_TIME);
      return { value, present: value !== undefined };
    }
    case DURATION: {
      let ns = 0n;
      for (const f of readFields(buf)) if (f.no === 1 && f.wt === 0) ns = BigInt.asIntN(64, f.v!);
      return { value: formatDuration(ns), present: true };
    }
    case RAW_EXTENSION:
    case FIELDS_V1: {
      let raw: Buffer = Buffer.alloc(0);
      for (const f of readFields(buf)) if (f.no === 1 && f.wt === 2) raw = f.b!;
      const value = parseRaw(raw, type === FIELDS_V1 ? 'FieldsV1' : 'RawExtension');
      return { value, present: value !== undefined };
    }
  }
  if (APIEXT_JSON.test(type)) {
    let raw: Buffer = Buffer.alloc(0);
    for (const f of readFields(buf)) if (f.no === 1 && f.wt === 2) raw = f.b!;
    const value = parseRaw(raw, 'JSON');
    return { value, present: value !== undefined };
  }
  if (WRAPPED_LISTS.test(type)) {
    const items: unknown[] = [];
    for (const f of readFields(buf)) if (f.no === 1) items.push(scalar('string', f));
    return { value: items, present: true };
  }
  return { value: decodeMessage(type, buf), present: true };
}

function decodeMessage(type: string, buf: Buffer): Record<string, unknown> {
  const specs = schema.messages[type];
  if (!specs) throw new Malformed(`no protobuf schema for ${type}`);
  const short = type.slice(type.lastIndexOf('.') + 1);
  const byNo = new Map<number, WireField[]>();
  for (const f of readFields(buf)) {
    const l = byNo.get(f.no);
    if (l) l.push(f);
    else byNo.set(f.no, [f]);
  }
  const out: Record<string, unknown> = {};
  for (const [no, name, kind, typeName, flags = 0] of specs) {
    const fs = byNo.get(no);
    if (!fs) continue;
    if (kind === 'map') {
      const obj: Record<string, unknown> = {};
      for (const f of fs) {
        if (f.wt !== 2) throw new Malformed(`wrong wireType = ${f.wt} for field ${name}`);
        let key = '';
        let value: unknown;
        let sawValue = false;
        const valueIsMessage = typeName!.includes('.');
        for (const e of readFields(f.b!)) {
          if (e.no === 1) key = scalar('string', e) as string;
          else if (e.no === 2) {
            value = valueIsMessage ? decodeMessageValue(typeName!, e.b ?? Buffer.alloc(0), true).value : scalar(typeName!, e);
            sawValue = true;
          }
        }
        if (!sawValue) value = valueIsMessage ? decodeMessageValue(typeName!, Buffer.alloc(0), true).value : zeroOf(typeName!);
        obj[key] = value ?? null;
      }
      out[name] = obj;
      continue;
    }
    if (flags & REPEATED) {
      const arr: unknown[] = [];
      for (const f of fs) {
        if (kind !== 'message' && kind !== 'string' && kind !== 'bytes' && f.wt === 2) arr.push(...unpack(kind, f));
        else arr.push(decodeValue(kind, typeName, f, true).value ?? null);
      }
      out[name] = arr;
      continue;
    }
    // A singular field seen more than once: the last one wins (messages would merge; gogo never does that).
    const keepZero = KEEP_ZERO.has(`${short}.${name}`) || KEEP_ZERO.has(`${type}.${name}`);
    const d = decodeValue(kind, typeName, fs[fs.length - 1]!, keepZero);
    if (flags & INLINE) {
      if (d.value && typeof d.value === 'object') Object.assign(out, d.value);
      continue;
    }
    if (d.present) out[name] = d.value;
  }
  return out;
}

function zeroOf(kind: string): unknown {
  if (kind === 'string' || kind === 'bytes') return '';
  if (kind === 'bool') return false;
  return 0;
}

// ---- kinds ---------------------------------------------------------------------------------

/** The proto package for an API group version: the group's first label, with upstream's exceptions. */
function protoPackage(group: string, version: string): string {
  if (group === '') return `k8s.io.api.core.${version}`;
  if (group === 'meta.k8s.io') return `k8s.io.apimachinery.pkg.apis.meta.${version}`;
  if (group === 'internal.apiserver.k8s.io') return `k8s.io.api.apiserverinternal.${version}`;
  if (group === 'apiextensions.k8s.io') return `k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.${version}`;
  if (group === 'apiregistration.k8s.io') return `k8s.io.kube_aggregator.pkg.apis.apiregistration.${version}`;
  return `k8s.io.api.${group.split('.')[0]}.${version}`;
}

/** Names the message for apiVersion+kind, or throws upstream's "not registered" error. */
export function messageFor(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const notRegistered = () =>
    badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "${SCHEME_NAME}"`);
  if (!kind || !version || !/^[A-Za-z0-9]+$/.test(kind) || !/^[a-z0-9]+$/.test(version)) throw notRegistered();
  const pkg = protoPackage(group, version);
  const own = schema.messages[`${pkg}.${kind}`];
  // Registered kinds carry object metadata; the rest are parts of objects, never sent alone.
  if (own && (own.some(([, name]) => name === 'metadata') || /Options$/.test(kind) || pkg.startsWith(META))) return `${pkg}.${kind}`;
  if (META_KINDS.has(kind) && Object.keys(schema.messages).some((m) => m.startsWith(`${pkg}.`))) return `${META}.${kind}`;
  throw notRegistered();
}

function decodeUnknown(buf: Buffer): KObject {
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  let contentEncoding = '';
  let contentType = '';
  for (const f of readFields(buf)) {
    if (f.no === 1 && f.wt === 2) {
      for (const t of readFields(f.b!)) {
        if (t.no === 1) apiVersion = scalar('string', t) as string;
        else if (t.no === 2) kind = scalar('string', t) as string;
      }
    } else if (f.no === 2 && f.wt === 2) raw = f.b!;
    else if (f.no === 3 && f.wt === 2) contentEncoding = f.b!.toString('utf8');
    else if (f.no === 4 && f.wt === 2) contentType = f.b!.toString('utf8');
  }
  if (contentEncoding) throw new Malformed(`unsupported content encoding "${contentEncoding}"`);
  if (contentType && !contentType.startsWith(PROTOBUF_CONTENT_TYPE)) {
    if (contentType.split(';')[0]!.trim() !== 'application/json') throw new Malformed(`unsupported content type "${contentType}"`);
    const v = parseRaw(raw, 'raw') as KObject | undefined;
    if (!v || typeof v !== 'object') throw new Malformed('raw is not an object');
    return v;
  }
  if (!kind) throw new Malformed('Object \'Kind\' is missing');
  const type = messageFor(apiVersion, kind);
  const body = decodeMessage(type, raw);
  return { kind, apiVersion, ...body } as KObject;
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` body into the JSON object upstream would
 * build from it. Throws a 400 ApiError for unknown kinds and malformed input.
 */
export function decodeProtobufObject(body: Buffer): KObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC))
    throw badRequest(
      `unable to decode protobuf body: provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_MAGIC].join(' ')}]`,
    );
  try {
    return decodeUnknown(body.subarray(4));
  } catch (e) {
    if (e instanceof Malformed || e instanceof RangeError) throw badRequest(`unable to decode protobuf body: ${e.message}`);
    throw e;
  }
}
