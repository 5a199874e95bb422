// `kts server`: one process running the whole control plane. Today: storage, PKI, the API
// server over HTTPS, and the controllers the API needs to behave (namespace lifecycle).
// Each component is started here and stopped in reverse order.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { builtinResources } from '../api/builtin.js';
import type { KObject } from '../api/types.js';
import { ApiServer, KUBE_VERSION } from '../apiserver/apiserver.js';
import { createHttpsServer } from '../apiserver/http.js';
import { ensurePKI, ensureServiceAccountKey, type PKI } from '../apiserver/pki.js';
import { bearerTokenAuthenticator, configureServiceAccountTokens } from '../apiserver/auth/serviceaccount.js';
import { parsePortRange } from '../apiserver/admission/serviceallocation.js';
import { writeKubeconfig } from '../cli/kubeconfig.js';
import { openStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import { parseCIDR } from '../util/cidr.js';
import { createLogger, type Logger } from '../util/log.js';
import { bootstrap } from './bootstrap.js';
import { registerCoreSubresources } from './subresources.js';
import { ControllerManager, newControllerContext } from '../controllers/manager.js';
import { LeaderElector } from '../client/leaderelection.js';
import { InProcessClient } from '../client/inprocess.js';
import { Scheduler } from '../scheduler/index.js';
import { SimulatedNodes } from '../kubelet/simulated/index.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { chooseRuntime, runtimeFactory } from '../kubelet/runtime/select.js';
import { KubeletServer } from '../kubelet/server/server.js';
import { configureKubeletClient } from '../kubelet/server/client.js';
import { nthIP } from '../util/cidr.js';
import { MetricsServer } from '../metrics/index.js';

export interface ServerConfig {
  dataDir: string;
  bindAddress: string;
  httpsListenPort: number;
  advertiseAddress?: string;
  tlsSANs: string[];
  writeKubeconfig?: string;
  writeKubeconfigMode?: number;
  datastoreEndpoint?: string;
  serviceCIDR: string;
  clusterCIDR: string;
  serviceNodePortRange: string;
  logFormat: 'text' | 'json';
  verbose?: boolean;
  /** Compaction interval in ms (0 disables); default 5 minutes. */
  compactIntervalMs?: number;
  logger?: Logger;
  /** Simulated nodes to register (kwok-like); 0 for none. */
  simulatedNodes?: number;
  /** --node-monitor-grace-period of the node lifecycle controller (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** How often the built-in metrics-server scrapes the kubelets (its --metric-resolution; default 15 s). */
  metricResolutionMs?: number;
  /** The kubelet of this server's own node (`kts server` sets it unless --disable-agent); unset: no kubelet. */
  kubelet?: {
    /** cri, process, fake or auto (cri when containerd is on PATH, else process). */
    containerRuntime?: string;
    /** Default <data-dir>/kubelet. */
    rootDir?: string;
    /** Default: the hostname, lower-cased. */
    nodeName?: string;
    /** Kubelet HTTPS port (default 10250; 0 picks a free one). */
    port?: number;
    containerRuntimeEndpoint?: string;
    pauseImage?: string;
    registryConfig?: string;
    /** Static pod manifests; default <data-dir>/pod-manifests, "" disables. */
    podManifestsDir?: string;
    /** Parent cgroup of kubepods (upstream's --cgroup-root; default /). */
    cgroupRoot?: string;
    /** Container log rotation (upstream's containerLogMaxSize in bytes, containerLogMaxFiles). */
    containerLogMaxSize?: number;
    containerLogMaxFiles?: number;
  };
}

export interface RunningServer {
  api: ApiServer;
  store: Store;
  pki: PKI;
  kubeconfigPath: string;
  url: string;
  port: number;
  simulated?: SimulatedNodes;
  kubelet?: Kubelet;
  stop(): Promise<void>;
}

export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/kts';
  return join(process.env['HOME'] ?? '.', '.kts');
}

/** The node's primary IPv4 address (first non-internal), or loopback. */
export function primaryIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function allIPv4(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  return out;
}

export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  const t0 = performance.now();
  const log = cfg.logger ?? createLogger(cfg.logFormat, { verbose: cfg.verbose });
  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  const advertise = cfg.advertiseAddress ?? (cfg.bindAddress !== '0.0.0.0' && cfg.bindAddress !== '::' ? cfg.bindAddress : primaryIPv4());

  const endpoints = cfg.datastoreEndpoint ? cfg.datastoreEndpoint.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const storeLog = log.with('storage');
  const [store, pki] = await Promise.all([
    openStore({ dataDir: cfg.dataDir, endpoints, compactIntervalMs: cfg.compactIntervalMs, log: (m, f) => storeLog.info(m, f as Record<string, unknown>) }),
    ensurePKI(join(cfg.dataDir, 'tls'), {
      sans: {
        dns: ['localhost', hostname(), ...cfg.tlsSANs.filter((s) => !/^[\d.]+$/.test(s) && !s.includes(':'))],
        ips: ['127.0.0.1', ...allIPv4(), advertise, ...cfg.tlsSANs.filter((s) => /^[\d.]+$/.test(s) || s.includes(':'))],
      },
    }),
  ]);

  const serviceCIDR = parseCIDR(cfg.serviceCIDR);
  const api = new ApiServer({
    store,
    decls: builtinResources,
    serviceCIDR,
    nodePortRange: parsePortRange(cfg.serviceNodePortRange),
    advertiseAddress: advertise,
    advertisePort: cfg.httpsListenPort,
    log: (m, f) => log.with('apiserver').error(m, f),
  });
  await api.start();
  registerCoreSubresources(api);
  // The API server's identity towards kubelets (pods/log, exec, attach, portforward).
  configureKubeletClient(api, pki);
  // Service account tokens: signed with <data-dir>/tls/service-account.key, accepted as bearer tokens.
  const saTokens = configureServiceAccountTokens(api, { privateKey: (await ensureServiceAccountKey(join(cfg.dataDir, 'tls'))).privateKey });

  const https = createHttpsServer(api, {
    host: cfg.bindAddress,
    port: cfg.httpsListenPort,
    cert: pki.servingCert,
    key: pki.servingKey,
    clientCA: pki.caCert,
    authenticators: [bearerTokenAuthenticator(api)],
  });
  // Listen first: with --https-listen-port 0 the real port is known only now, and the
  // `kubernetes` Service/Endpoints (and /api's serverAddressByClientCIDRs) must name it.
  const port = await listen(https, cfg.httpsListenPort, cfg.bindAddress);
  api.opts.advertisePort = port;
  await bootstrap(api, { advertiseAddress: advertise, securePort: port });
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = cfg.writeKubeconfig ?? join(cfg.dataDir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfigPath, { server: url, caCert: pki.caCert, clientCert: pki.adminCert, clientKey: pki.adminKey });

  const client = new InProcessClient(api);
  const ctx = newControllerContext(client, log);
  const identity = await leaderIdentity(cfg.dataDir);
  // The controller manager and the scheduler each run only while this server holds their
  // lease, so several servers sharing one etcd run exactly one of each.
  let controllers: ControllerManager | undefined;
  let scheduler: Scheduler | undefined;
  const electors = [
    new LeaderElector(client, {
      namespace: 'kube-system',
      name: 'kube-controller-manager',
      identity,
      log: (m, f) => log.with('controller-manager').info(m, f),
      onStartedLeading: () => {
        controllers = new ControllerManager({ ...ctx, client: client.as(`kube-controller-manager/${KUBE_VERSION.gitVersion}`), log: log.with('controller-manager') }, { caCert: pki.caCert, issueLegacyToken: (sa, secretName) => saTokens.issueLegacy(sa, secretName), nodeMonitorGracePeriodMs: cfg.nodeMonitorGracePeriodMs });
        controllers.start();
      },
      onStoppedLeading: () => {
        controllers?.stop();
        controllers = undefined;
      },
    }),
    new LeaderElector(client, {
      namespace: 'kube-system',
      name: 'kube-scheduler',
      identity,
      log: (m, f) => log.with('scheduler').info(m, f),
      onStartedLeading: () => {
        scheduler = new Scheduler({ ...ctx, client: client.as(`kube-scheduler/${KUBE_VERSION.gitVersion}`), log: log.with('scheduler') });
        scheduler.start();
        ctx.informers.start();
      },
      onStoppedLeading: () => {
        scheduler?.stop();
        scheduler = undefined;
      },
    }),
  ];
  for (const e of electors) e.start();
  const simulated = cfg.simulatedNodes ? new SimulatedNodes({ ...ctx, client: client.as(`kubelet/${KUBE_VERSION.gitVersion}`), log: log.with('simulated-nodes') }, { count: cfg.simulatedNodes }) : undefined;
  simulated?.start();
  // metrics.k8s.io (kubectl top): scraped from the kubelets, served by this API server.
  const metrics = new MetricsServer(api, { ...ctx, client: client.as(`metrics-server/${KUBE_VERSION.gitVersion}`), log: log.with('metrics-server') }, { resolutionMs: cfg.metricResolutionMs });
  metrics.start();
  // The kubelet of this server's own node (like k3s: every server is also an agent).
  let kubelet: Kubelet | undefined;
  let kubeletServer: KubeletServer | undefined;
  if (cfg.kubelet) {
    const klog = log.with('kubelet');
    const choice = chooseRuntime(cfg.kubelet.containerRuntime);
    const rootDir = cfg.kubelet.rootDir ?? join(cfg.dataDir, 'kubelet');
    // Like k3s's <data-dir>/agent/pod-manifests: on by default, created so users can drop files in.
    const podManifestsDir = cfg.kubelet.podManifestsDir ?? join(cfg.dataDir, 'pod-manifests');
    if (cfg.kubelet.podManifestsDir === undefined) await mkdir(podManifestsDir, { recursive: true });
    klog.info('using container runtime', { runtime: choice.kind, reason: choice.reason });
    kubelet = new Kubelet({ ...ctx, client: client.as(`kubelet/${KUBE_VERSION.gitVersion}`), log: klog }, {
      nodeName: cfg.kubelet.nodeName ?? hostname().toLowerCase(),
      runtime: runtimeFactory(choice.kind, { rootDir, log: klog, endpoint: cfg.kubelet.containerRuntimeEndpoint, pauseImage: cfg.kubelet.pauseImage, registryConfig: cfg.kubelet.registryConfig }),
      rootDir,
      clusterCIDR: cfg.clusterCIDR,
      clusterDNS: [nthIP(serviceCIDR, 10)],
      clusterDomain: 'cluster.local',
      hostIP: advertise,
      controlPlane: true,
      podManifestsDir: podManifestsDir || undefined,
      cgroupRoot: cfg.kubelet.cgroupRoot,
      containerLogMaxSize: cfg.kubelet.containerLogMaxSize,
      containerLogMaxFiles: cfg.kubelet.containerLogMaxFiles,
    });
    kubelet.start();
    const k = kubelet;
    void k.ready.then(async (runtime) => {
      kubeletServer = new KubeletServer({ runtime, nodeName: k.opts.nodeName, cert: pki.servingCert, key: pki.servingKey, clientCA: pki.caCert, host: cfg.bindAddress, port: cfg.kubelet?.port ?? 10250, log: (m, f) => klog.info(m, f) });
      try {
        await k.setKubeletPort(await kubeletServer.start());
      } catch (e) {
        klog.error('kubelet server failed to start', { err: String(e) });
      }
    }, () => {});
  }
  ctx.informers.start();
  api.registerVirtual('componentstatuses', async () => componentStatuses(store, !!controllers?.running(), !!scheduler?.running()));

  log.info('kts server is ready', {
    url,
    kubeconfig: kubeconfigPath,
    storage: store.name,
    startupMs: Math.round(performance.now() - t0),
  });

  return {
    api,
    store,
    pki,
    kubeconfigPath,
    url,
    port,
    simulated,
    kubelet,
    async stop() {
      simulated?.stop();
      metrics.stop();
      await kubeletServer?.stop();
      await kubelet?.stop();
      await Promise.all(electors.map((e) => e.stop()));
      ctx.informers.stop();
      // End every watch first (each gets an ERROR event saying why), so clients learn the
      // server is going away instead of seeing a bare connection reset.
      await api.stop();
      await new Promise<void>((resolve) => {
        https.close(() => resolve());
        // HTTP/2 sessions can outlive their streams: do not wait for idle clients forever.
        setTimeout(resolve, 2000).unref();
      });
      await store.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** componentstatuses: the health of what this process actually runs. */
async function componentStatuses(store: Store, controllersRunning: boolean, schedulerRunning: boolean): Promise<KObject[]> {
  const cs = (name: string, ok: boolean, message: string, error?: string): KObject => ({
    kind: 'ComponentStatus',
    apiVersion: 'v1',
    metadata: { name, creationTimestamp: null as unknown as string },
    conditions: [{ type: 'Healthy', status: ok ? 'True' : 'False', message, ...(error ? { error } : {}) }],
  });
  const out: KObject[] = [];
  // Components this server runs, or that another server sharing the store leads.
  out.push(schedulerRunning ? cs('scheduler', true, 'ok') : cs('scheduler', true, 'ok (leader elsewhere or starting)'));
  out.push(controllersRunning ? cs('controller-manager', true, 'ok') : cs('controller-manager', true, 'ok (leader elsewhere or starting)'));
  const h = await store.health().catch((e: Error) => ({ ok: false, message: e.message }));
  out.push(h.ok ? cs('etcd-0', true, 'ok') : cs('etcd-0', false, '', h.message ?? 'unhealthy'));
  return out;
}

/** A stable identity for leader election: hostname plus an id kept in the data dir, so a
 * restarted server takes its own lease back at once instead of waiting for it to expire. */
async function leaderIdentity(dataDir: string): Promise<string> {
  const file = join(dataDir, 'identity');
  let id: string;
  try {
    id = (await readFile(file, 'utf8')).trim();
  } catch {
    id = randomUUID();
    await writeFile(file, id + '\n', { mode: 0o600 });
  }
  return `${hostname()}_${id}`;
}
