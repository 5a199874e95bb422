// Strategic merge patch metadata for the built-in kinds: which lists merge (and by which
// key), which maps are replaced whole, where retainKeys applies. Upstream reads this from
// the `patchStrategy`/`patchMergeKey` struct tags of the Go types; here it is written out
// per named type, with references to nested types only along paths that lead somewhere
// interesting. Fields not listed behave like untagged Go fields: maps merge, lists replace.
//
// Type names are the OpenAPI definition names without their package prefix
// ("core.v1.PodSpec" is io.k8s.api.core.v1.PodSpec, "meta.v1.ObjectMeta" is
// io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta); a unit test checks every entry
// against upstream's OpenAPI document.

export interface FieldSpec {
  /** Named type of the field's value (for lists: of each item; for maps: of each value). */
  type?: string;
  /** Go's patchStrategy tag: "merge", "replace", "retainKeys" or "merge,retainKeys". */
  strategy?: string;
  /** Go's patchMergeKey tag. */
  mergeKey?: string;
  /** The field is a map[string]<type>. */
  map?: boolean;
}

const ref = (type: string): FieldSpec => ({ type });
const mapOf = (type: string): FieldSpec => ({ type, map: true });
/** A list merged by key (maps) or by value (primitives, no key). */
const merge = (mergeKey?: string, type?: string): FieldSpec => ({ strategy: 'merge', mergeKey, type });
const mergeRetainKeys = (mergeKey: string, type?: string): FieldSpec => ({ strategy: 'merge,retainKeys', mergeKey, type });
const retainKeys = (type?: string): FieldSpec => ({ strategy: 'retainKeys', type });
const replace = (type?: string): FieldSpec => ({ strategy: 'replace', type });
const conditions = merge('type');

const meta = ref('meta.v1.ObjectMeta');
const podTemplate = ref('core.v1.PodTemplateSpec');
/** A kind whose only patch metadata is in its ObjectMeta. */
const plain = { metadata: meta };

const containerFields = {
  env: merge('name'),
  ports: merge('containerPort'),
  volumeDevices: merge('devicePath'),
  volumeMounts: merge('mountPath'),
};

export const patchMetaTypes: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>> = {
  'meta.v1.ObjectMeta': {
    finalizers: merge(),
    ownerReferences: merge('uid'),
  },

  // core/v1
  'core.v1.Pod': { metadata: meta, spec: ref('core.v1.PodSpec'), status: ref('core.v1.PodStatus') },
  'core.v1.PodSpec': {
    containers: merge('name', 'core.v1.Container'),
    ephemeralContainers: merge('name', 'core.v1.EphemeralContainer'),
    hostAliases: merge('ip'),
    imagePullSecrets: merge('name'),
    initContainers: merge('name', 'core.v1.Container'),
    resourceClaims: mergeRetainKeys('name'),
    schedulingGates: merge('name'),
    topologySpreadConstraints: merge('topologyKey'),
    volumes: mergeRetainKeys('name', 'core.v1.Volume'),
  },
  'core.v1.Container': containerFields,
  'core.v1.EphemeralContainer': containerFields,
  'core.v1.Volume': { ephemeral: ref('core.v1.EphemeralVolumeSource') },
  'core.v1.EphemeralVolumeSource': { volumeClaimTemplate: ref('core.v1.PersistentVolumeClaimTemplate') },
  'core.v1.PersistentVolumeClaimTemplate': plain,
  'core.v1.PodStatus': {
    conditions,
    containerStatuses: ref('core.v1.ContainerStatus'),
    ephemeralContainerStatuses: ref('core.v1.ContainerStatus'),
    initContainerStatuses: ref('core.v1.ContainerStatus'),
    hostIPs: merge('ip'),
    podIPs: merge('ip'),
    resourceClaimStatuses: mergeRetainKeys('name'),
  },
  'core.v1.ContainerStatus': {
    allocatedResourcesStatus: merge('name'),
    volumeMounts: merge('mountPath'),
  },
  'core.v1.PodTemplate': { metadata: meta, template: podTemplate },
  'core.v1.PodTemplateSpec': { metadata: meta, spec: ref('core.v1.PodSpec') },
  'core.v1.ReplicationController': {
    metadata: meta,
    spec: ref('core.v1.ReplicationControllerSpec'),
    status: ref('core.v1.ReplicationControllerStatus'),
  },
  'core.v1.ReplicationControllerSpec': { template: podTemplate },
  'core.v1.ReplicationControllerStatus': { conditions },
  'core.v1.Service': { metadata: meta, spec: ref('core.v1.ServiceSpec'), status: ref('core.v1.ServiceStatus') },
  'core.v1.ServiceSpec': { ports: merge('port') },
  'core.v1.ServiceStatus': { conditions },
  'core.v1.Node': { metadata: meta, spec: ref('core.v1.NodeSpec'), status: ref('core.v1.NodeStatus') },
  'core.v1.NodeSpec': { podCIDRs: merge() },
  'core.v1.NodeStatus': { addresses: merge('type'), conditions },
  'core.v1.Namespace': { metadata: meta, status: ref('core.v1.NamespaceStatus') },
  'core.v1.NamespaceStatus': { conditions },
  'core.v1.ServiceAccount': { metadata: meta, secrets: merge('name') },
  'core.v1.PersistentVolumeClaim': { metadata: meta, status: ref('core.v1.PersistentVolumeClaimStatus') },
  'core.v1.PersistentVolumeClaimStatus': { conditions },
  'core.v1.ComponentStatus': { metadata: meta, conditions },
  'core.v1.Endpoints': plain,
  'core.v1.ConfigMap': plain,
  'core.v1.Secret': plain,
  'core.v1.Event': plain,
  'core.v1.PersistentVolume': plain,
  'core.v1.LimitRange': plain,
  'core.v1.ResourceQuota': plain,
  'core.v1.Binding': plain,

  // apps/v1
  'apps.v1.Deployment': { metadata: meta, spec: ref('apps.v1.DeploymentSpec'), status: ref('apps.v1.DeploymentStatus') },
  'apps.v1.DeploymentSpec': { strategy: retainKeys(), template: podTemplate },
  'apps.v1.DeploymentStatus': { conditions },
  'apps.v1.ReplicaSet': { metadata: meta, spec: ref('apps.v1.ReplicaSetSpec'), status: ref('apps.v1.ReplicaSetStatus') },
  'apps.v1.ReplicaSetSpec': { template: podTemplate },
  'apps.v1.ReplicaSetStatus': { conditions },
  'apps.v1.DaemonSet': { metadata: meta, spec: ref('apps.v1.DaemonSetSpec'), status: ref('apps.v1.DaemonSetStatus') },
  'apps.v1.DaemonSetSpec': { template: podTemplate },
  'apps.v1.DaemonSetStatus': { conditions },
  'apps.v1.StatefulSet': { metadata: meta, spec: ref('apps.v1.StatefulSetSpec'), status: ref('apps.v1.StatefulSetStatus') },
  'apps.v1.StatefulSetSpec': { template: podTemplate, volumeClaimTemplates: ref('core.v1.PersistentVolumeClaim') },
  'apps.v1.StatefulSetStatus': { conditions },
  'apps.v1.ControllerRevision': plain,

  // batch/v1
  'batch.v1.Job': { metadata: meta, spec: ref('batch.v1.JobSpec'), status: ref('batch.v1.JobStatus') },
  'batch.v1.JobSpec': { template: podTemplate },
  'batch.v1.JobStatus': { conditions },
  'batch.v1.CronJob': { metadata: meta, spec: ref('batch.v1.CronJobSpec') },
  'batch.v1.CronJobSpec': { jobTemplate: ref('batch.v1.JobTemplateSpec') },
  'batch.v1.JobTemplateSpec': { metadata: meta, spec: ref('batch.v1.JobSpec') },

  // autoscaling
  'autoscaling.v1.HorizontalPodAutoscaler': plain,
  'autoscaling.v1.Scale': plain,
  'autoscaling.v2.HorizontalPodAutoscaler': { metadata: meta, status: ref('autoscaling.v2.HorizontalPodAutoscalerStatus') },
  'autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions },

  // policy/v1
  'policy.v1.PodDisruptionBudget': {
    metadata: meta,
    spec: ref('policy.v1.PodDisruptionBudgetSpec'),
    status: ref('policy.v1.PodDisruptionBudgetStatus'),
  },
  'policy.v1.PodDisruptionBudgetSpec': { selector: replace() },
  'policy.v1.PodDisruptionBudgetStatus': { conditions },
  'policy.v1.Eviction': plain,

  // storage.k8s.io/v1
  'storage.v1.StorageClass': plain,
  'storage.v1.CSIDriver': plain,
  'storage.v1.VolumeAttachment': plain,
  'storage.v1.CSINode': { metadata: meta, spec: ref('storage.v1.CSINodeSpec') },
  'storage.v1.CSINodeSpec': { drivers: merge('name') },

  // apiextensions.k8s.io/v1
  'apiextensions.v1.CustomResourceDefinition': { metadata: meta, spec: ref('apiextensions.v1.CustomResourceDefinitionSpec') },
  'apiextensions.v1.CustomResourceDefinitionSpec': { versions: ref('apiextensions.v1.CustomResourceDefinitionVersion') },
  'apiextensions.v1.CustomResourceDefinitionVersion': { schema: ref('apiextensions.v1.CustomResourceValidation') },
  'apiextensions.v1.CustomResourceValidation': { openAPIV3Schema: ref('apiextensions.v1.JSONSchemaProps') },
  'apiextensions.v1.JSONSchemaProps': {
    allOf: ref('apiextensions.v1.JSONSchemaProps'),
    anyOf: ref('apiextensions.v1.JSONSchemaProps'),
    oneOf: ref('apiextensions.v1.JSONSchemaProps'),
    not: ref('apiextensions.v1.JSONSchemaProps'),
    definitions: mapOf('apiextensions.v1.JSONSchemaProps'),
    patternProperties: mapOf('apiextensions.v1.JSONSchemaProps'),
    properties: mapOf('apiextensions.v1.JSONSchemaProps'),
    'x-kubernetes-validations': merge('rule'),
  },

  // admissionregistration.k8s.io/v1
  'admissionregistration.v1.MutatingWebhookConfiguration': {
    metadata: meta,
    webhooks: merge('name', 'admissionregistration.v1.MutatingWebhook'),
  },
  'admissionregistration.v1.MutatingWebhook': { matchConditions: merge('name') },
  'admissionregistration.v1.ValidatingWebhookConfiguration': {
    metadata: meta,
    webhooks: merge('name', 'admissionregistration.v1.ValidatingWebhook'),
  },
  'admissionregistration.v1.ValidatingWebhook': { matchConditions: merge('name') },
  'admissionregistration.v1.ValidatingAdmissionPolicy': {
    metadata: meta,
    spec: ref('admissionregistration.v1.ValidatingAdmissionPolicySpec'),
  },
  'admissionregistration.v1.ValidatingAdmissionPolicySpec': { matchConditions: merge('name'), variables: merge('name') },
  'admissionregistration.v1.ValidatingAdmissionPolicyBinding': plain,

  // The rest carry patch metadata only in ObjectMeta.
  'networking.v1.Ingress': plain,
  'networking.v1.IngressClass': plain,
  'networking.v1.NetworkPolicy': plain,
  'rbac.v1.Role': plain,
  'rbac.v1.ClusterRole': plain,
  'rbac.v1.RoleBinding': plain,
  'rbac.v1.ClusterRoleBinding': plain,
  'discovery.v1.EndpointSlice': plain,
  'coordination.v1.Lease': plain,
  'events.v1.Event': plain,
  'scheduling.v1.PriorityClass': plain,
  'node.v1.RuntimeClass': plain,
  'certificates.v1.CertificateSigningRequest': plain,
};

/** group/version/kind -> root type; "" is the core group. */
const kinds: Record<string, string> = {};
function serve(group: string, version: string, typePrefix: string, names: string[]): void {
  for (const kind of names) kinds[`${group}/${version}/${kind}`] = `${typePrefix}.${version}.${kind}`;
}
serve('', 'v1', 'core', [
  'Pod', 'PodTemplate', 'ReplicationController', 'Service', 'Endpoints', 'Node', 'Namespace', 'ConfigMap', 'Secret',
  'ServiceAccount', 'Event', 'PersistentVolume', 'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota', 'Binding',
  'ComponentStatus',
]);
serve('apps', 'v1', 'apps', ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'ControllerRevision']);
serve('batch', 'v1', 'batch', ['Job', 'CronJob']);
serve('networking.k8s.io', 'v1', 'networking', ['Ingress', 'IngressClass', 'NetworkPolicy']);
serve('autoscaling', 'v1', 'autoscaling', ['HorizontalPodAutoscaler', 'Scale']);
serve('autoscaling', 'v2', 'autoscaling', ['HorizontalPodAutoscaler']);
serve('rbac.authorization.k8s.io', 'v1', 'rbac', ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
serve('storage.k8s.io', 'v1', 'storage', ['StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment']);
serve('discovery.k8s.io', 'v1', 'discovery', ['EndpointSlice']);
serve('coordination.k8s.io', 'v1', 'coordination', ['Lease']);
serve('policy', 'v1', 'policy', ['PodDisruptionBudget', 'Eviction']);
serve('events.k8s.io', 'v1', 'events', ['Event']);
serve('apiextensions.k8s.io', 'v1', 'apiextensions', ['CustomResourceDefinition']);
serve('admissionregistration.k8s.io', 'v1', 'admissionregistration', [
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);
serve('scheduling.k8s.io', 'v1', 'scheduling', ['PriorityClass']);
serve('node.k8s.io', 'v1', 'node', ['RuntimeClass']);
serve('certificates.k8s.io', 'v1', 'certificates', ['CertificateSigningRequest']);

/** What strategic merge needs to know about one field. */
export interface FieldPatchMeta {
  /** Go's patch strategies, e.g. ["merge"], ["merge", "retainKeys"], ["replace"]; empty when untagged. */
  strategies: string[];
  mergeKey?: string;
  /** Metadata of the field's value (or of each list item / map value); undefined when nothing below has any. */
  schema?: PatchSchema;
}

/** Patch metadata of one object type (upstream's LookupPatchMeta). */
export interface PatchSchema {
  readonly name: string;
  lookup(field: string): FieldPatchMeta;
}

const untagged: FieldPatchMeta = { strategies: [] };
const cache = new Map<string, PatchSchema>();

/** The schema of a named type ("core.v1.PodSpec"); undefined for names not described here. */
export function schemaForType(name: string): PatchSchema | undefined {
  const fields = patchMetaTypes[name];
  if (!fields) return undefined;
  let s = cache.get(name);
  if (s) return s;
  const metas = new Map<string, FieldPatchMeta>();
  s = {
    name,
    lookup(field: string): FieldPatchMeta {
      let m = metas.get(field);
      if (m) return m;
      const spec = Object.prototype.hasOwnProperty.call(fields, field) ? fields[field] : undefined;
      if (!spec) return untagged;
      const elem = spec.type ? schemaForType(spec.type) : undefined;
      m = {
        strategies: spec.strategy ? spec.strategy.split(',') : [],
        mergeKey: spec.mergeKey,
        schema: spec.map && elem ? mapSchema(elem) : elem,
      };
      metas.set(field, m);
      return m;
    },
  };
  cache.set(name, s);
  return s;
}

/** A map[string]T: every key holds a T. */
function mapSchema(elem: PatchSchema): PatchSchema {
  const m: FieldPatchMeta = { strategies: [], schema: elem };
  return { name: `map[string]${elem.name}`, lookup: () => m };
}

/**
 * Patch metadata for a served built-in kind, or undefined (custom resources and unknown
 * kinds), for which the API server refuses strategic merge patch with 415 as upstream does.
 */
export function schemaFor(group: string, version: string, kind: string): PatchSchema | undefined {
  const t = kinds[`${group}/${version}/${kind}`];
  return t ? schemaForType(t) : undefined;
}

/** Every group/version/kind with patch metadata, as [group, version, kind, type name]. */
export function describedKinds(): [string, string, string, string][] {
  return Object.entries(kinds).map(([gvk, t]) => {
    const [g, v, k] = gvk.split('/') as [string, string, string];
    return [g, v, k, t];
  });
}
