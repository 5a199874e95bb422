// SetDefaults_PodSpec / SetDefaults_Container / SetDefaults_Volume (pkg/apis/core/v1/defaults.go),
// plus the pod-only defaults (SetDefaults_Pod) and what admission plugins add to every pod
// (ServiceAccount, Priority, DefaultTolerationSeconds), which users see in `kubectl get pod -o yaml`.
import { arr, canonicalizeResourceList, ensureObj, isObj, type Json, setDefault, str } from './helpers.js';

/** The tag of an image reference ("" when pinned by digest only; "latest" when absent). */
export function imageTag(image: string): string {
  let ref = image;
  const at = ref.indexOf('@');
  const hasDigest = at >= 0;
  if (hasDigest) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return ref.slice(colon + 1);
  return hasDigest ? '' : 'latest';
}

function defaultHandler(h: unknown): void {
  if (!isObj(h)) return;
  if (isObj(h.httpGet)) {
    setDefault(h.httpGet, 'path', '/');
    setDefault(h.httpGet, 'scheme', 'HTTP');
  }
  if (isObj(h.grpc) && h.grpc.service === undefined) h.grpc.service = '';
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  defaultHandler(p);
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
}

function defaultFieldRef(ref: unknown): void {
  if (isObj(ref)) setDefault(ref, 'apiVersion', 'v1');
}

export function defaultContainer(c: Record<string, Json>): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const res = ensureObj(c, 'resources');
  canonicalizeResourceList(res.limits);
  canonicalizeResourceList(res.requests);
  for (const p of arr(c.ports)) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
  for (const e of arr(c.env)) if (isObj(e) && isObj(e.valueFrom)) defaultFieldRef(e.valueFrom.fieldRef);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

/** Every volume source field; a volume with none of them becomes an emptyDir. */
export const volumeSourceKeys = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

const defaultMode = 0o644; // 420, what `kubectl get -o yaml` shows

function defaultDownwardAPIItems(items: unknown): void {
  for (const it of arr(items)) if (isObj(it)) defaultFieldRef(it.fieldRef);
}

export function defaultVolume(v: Record<string, Json>): void {
  if (!volumeSourceKeys.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObj(v.secret)) setDefault(v.secret, 'defaultMode', defaultMode);
  if (isObj(v.configMap)) setDefault(v.configMap, 'defaultMode', defaultMode);
  if (isObj(v.downwardAPI)) {
    setDefault(v.downwardAPI, 'defaultMode', defaultMode);
    defaultDownwardAPIItems(v.downwardAPI.items);
  }
  if (isObj(v.projected)) {
    setDefault(v.projected, 'defaultMode', defaultMode);
    for (const s of arr(v.projected.sources)) {
      if (!isObj(s)) continue;
      if (isObj(s.serviceAccountToken)) setDefault(s.serviceAccountToken, 'expirationSeconds', 3600);
      if (isObj(s.downwardAPI)) defaultDownwardAPIItems(s.downwardAPI.items);
    }
  }
  if (isObj(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = '';
  if (isObj(v.iscsi)) setDefault(v.iscsi, 'iscsiInterface', 'default');
  if (isObj(v.rbd)) {
    setDefault(v.rbd, 'pool', 'rbd');
    setDefault(v.rbd, 'user', 'admin');
    setDefault(v.rbd, 'keyring', '/etc/ceph/keyring');
  }
  if (isObj(v.azureDisk)) {
    setDefault(v.azureDisk, 'cachingMode', 'ReadWrite');
    setDefault(v.azureDisk, 'fsType', 'ext4');
    if (v.azureDisk.readOnly === undefined) v.azureDisk.readOnly = false;
    setDefault(v.azureDisk, 'kind', 'Shared');
  }
}

/** SetDefaults_PodSpec and what it cascades to (containers, volumes). Used for pods and templates. */
export function defaultPodSpec(spec: Record<string, Json> | undefined): void {
  if (!isObj(spec)) return;
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  setDefault(spec, 'schedulerName', 'default-scheduler');
  // The deprecated serviceAccount field mirrors serviceAccountName (v1 conversion).
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const kind of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of arr(spec[kind])) {
      if (!isObj(c)) continue;
      if (kind === 'ephemeralContainers') {
        if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
        setDefault(c, 'terminationMessagePath', '/dev/termination-log');
        setDefault(c, 'terminationMessagePolicy', 'File');
        continue;
      }
      defaultContainer(c);
      // With the host's network, the container port is the host port.
      if (spec.hostNetwork === true) for (const p of arr(c.ports)) if (isObj(p) && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
  for (const v of arr(spec.volumes)) if (isObj(v)) defaultVolume(v);
  canonicalizeResourceList(spec.overhead);
}

/** SetDefaults for a PodTemplateSpec (used by every workload resource). */
export function defaultPodTemplateSpec(template: Record<string, Json> | undefined): void {
  if (!isObj(template)) return;
  if (!isObj(template.spec)) return;
  defaultPodSpec(template.spec);
}

const notReadyTaint = 'node.kubernetes.io/not-ready';
const unreachableTaint = 'node.kubernetes.io/unreachable';

/** Pod-only defaults: SetDefaults_Pod plus the admission plugins that touch every pod. */
export function defaultPod(pod: Record<string, Json>): void {
  const spec = ensureObj(pod, 'spec');
  // SetDefaults_Pod: requests default to limits (pods only, not templates).
  for (const kind of ['containers', 'initContainers']) {
    for (const c of arr(spec[kind])) {
      if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) continue;
      const req = ensureObj(c.resources, 'requests');
      for (const [k, v] of Object.entries(c.resources.limits)) if (req[k] === undefined) req[k] = v;
    }
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  defaultPodSpec(spec);
  // ServiceAccount admission; it leaves a kubelet's mirror pods alone.
  const annotations = isObj(pod.metadata) && isObj(pod.metadata.annotations) ? pod.metadata.annotations : {};
  if (!spec.serviceAccountName && annotations['kubernetes.io/config.mirror'] === undefined) {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
  // Priority admission: no priorityClassName means priority 0.
  if (!spec.priorityClassName && (spec.priority === undefined || spec.priority === null)) spec.priority = 0;
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  // DefaultTolerationSeconds admission.
  const tolerations = arr(spec.tolerations);
  const tolerates = (key: string) =>
    tolerations.some((t) => isObj(t) && (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
  const add: Json[] = [];
  for (const key of [notReadyTaint, unreachableTaint])
    if (!tolerates(key)) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  if (add.length) spec.tolerations = [...tolerations, ...add];
}
