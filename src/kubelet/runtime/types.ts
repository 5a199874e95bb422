// The one container runtime interface the kubelet uses, shaped like CRI v1
// (k8s.io/cri-api RuntimeService + ImageService), with three implementations:
// `cri` (containerd over gRPC), `process` (host processes) and `fake` (no processes).
import type { Duplex, Readable, Writable } from 'node:stream';

export interface KeyValueMap {
  [key: string]: string;
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface PodSandboxConfig {
  /** metadata.uid / name / namespace of the pod, and the sandbox attempt (restarts). */
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  hostname: string;
  /** Directory for this pod's container logs: /var/log/pods/<ns>_<name>_<uid> under the kubelet's root. */
  logDirectory: string;
  dns?: { servers: string[]; searches: string[]; options: string[] };
  portMappings: PortMapping[];
  hostNetwork: boolean;
  labels: KeyValueMap;
  annotations: KeyValueMap;
  /** cgroup parent for the pod (QoS class aware), when the runtime supports cgroups. */
  cgroupParent?: string;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
}

export interface ContainerResources {
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  /** The container process's oom_score_adj, by QoS class (the runtime may clamp it). */
  oomScoreAdj?: number;
}

/** One container's usage, as CRI ContainerStats (cumulative CPU; memory now). */
export interface ContainerStats {
  id: string;
  name: string;
  labels: KeyValueMap;
  /** Milliseconds since the epoch of the sample. */
  timestamp: number;
  cpuUsageCoreNanoSeconds?: number;
  cpuUsageNanoCores?: number;
  memoryWorkingSetBytes?: number;
  memoryUsageBytes?: number;
  memoryRssBytes?: number;
  memoryAvailableBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
  writableLayerUsedBytes?: number;
}

export interface ContainerConfig {
  name: string;
  attempt: number;
  /** The image reference as in the pod spec (e.g. "nginx:1.25"). */
  image: string;
  command: string[];
  args: string[];
  workingDir?: string;
  env: { name: string; value: string }[];
  mounts: Mount[];
  /** Relative to the sandbox's logDirectory: "<container>/<attempt>.log" (CRI log format). */
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  labels: KeyValueMap;
  annotations: KeyValueMap;
  resources?: ContainerResources;
  /** securityContext subset: runAsUser, runAsGroup, privileged, readOnlyRootFilesystem … */
  securityContext?: Record<string, unknown>;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  state: ContainerState;
  /** Unix nanoseconds would be CRI's; here milliseconds since the epoch (0 = not yet). */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** e.g. "OOMKilled", "Error", "Completed" when exited. */
  reason?: string;
  message?: string;
  image: string;
  /** Resolved image id/digest, shown as containerStatuses[].imageID. */
  imageRef: string;
  /** Absolute path of the container's log file. */
  logPath: string;
  labels: KeyValueMap;
  annotations: KeyValueMap;
}

export interface SandboxStatus {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  state: 'ready' | 'notready';
  createdAt: number;
  /** The pod IP(s) assigned by the runtime's network (CNI), if any. */
  ips: string[];
  labels: KeyValueMap;
  annotations: KeyValueMap;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** An interactive session (kubectl exec/attach): streams plus terminal resize. */
export interface StreamSession {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  resize?(width: number, height: number): void;
  /** Resolves with the exit code once the process ends (attach: when the container's stream ends). */
  done: Promise<{ exitCode: number; message?: string }>;
  close(): void;
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface ContainerRuntime {
  /** "cri", "process" or "fake". */
  readonly type: 'cri' | 'process' | 'fake';
  /** For Node.status.nodeInfo.containerRuntimeVersion: e.g. { name: "containerd", version: "1.6.20" }. */
  version(): Promise<{ name: string; version: string }>;
  /** What this runtime cannot do (no image filesystem, no isolation …), for an event on each pod. */
  limitations(): string | undefined;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<SandboxStatus | undefined>;
  listPodSandboxes(): Promise<SandboxStatus[]>;

  /** Pulls an image (auth from imagePullSecrets, if any); returns its image ref. Errors mean ErrImagePull. */
  pullImage(image: string, auth?: { username?: string; password?: string; auth?: string; serverAddress?: string }): Promise<string>;
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  listImages(): Promise<ImageInfo[]>;
  removeImage(image: string): Promise<void>;

  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSeconds. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus | undefined>;
  listContainers(): Promise<ContainerStatus[]>;

  /** Runs a command to completion (probes, lifecycle hooks). */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult>;
  /** Interactive exec (kubectl exec). */
  exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession>;
  /** Attach to the container's main process (kubectl attach / run -it). */
  attach(containerId: string, opts: StreamOptions): Promise<StreamSession>;
  /** A byte stream to `port` inside the pod's network namespace (kubectl port-forward). */
  portForward(sandboxId: string, port: number): Promise<Duplex>;

  /** Usage of every container (CRI ListContainerStats); absent where the runtime cannot measure. */
  listContainerStats?(): Promise<ContainerStats[]>;

  /**
   * Reopens a running container's log file at its path (CRI ReopenContainerLog) after the kubelet
   * renamed it to rotate it; absent where the runtime cannot (then logs are not rotated).
   */
  reopenContainerLog?(containerId: string): Promise<void>;

  /** Releases connections and child processes it supervises (not the containers). */
  close(): Promise<void>;
}
