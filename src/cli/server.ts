// `kts server`: flags (every default shown by --help), an optional config file, and start-up.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { defaultDataDir, startServer, type ServerConfig } from '../server/index.js';
import { createLogger } from '../util/log.js';
import { parseDuration } from '../kubelet/simulated/pod.js';
import { tryParse } from '../api/quantity.js';

interface FlagDef {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'list';
  default: () => string | number | boolean | string[] | undefined;
  help: string;
  env?: string;
}

const FLAGS: FlagDef[] = [
  { name: 'config', type: 'string', default: () => undefined, help: 'YAML file whose keys are flag names (flags on the command line win)', env: 'KTS_CONFIG_FILE' },
  { name: 'data-dir', type: 'string', default: defaultDataDir, help: 'Directory for the database, certificates and kubeconfig', env: 'KTS_DATA_DIR' },
  { name: 'bind-address', type: 'string', default: () => '0.0.0.0', help: 'Address the API server listens on' },
  { name: 'https-listen-port', type: 'number', default: () => 6443, help: 'HTTPS port of the API server (0 picks a free port)' },
  { name: 'advertise-address', type: 'string', default: () => undefined, help: 'Address published in the kubernetes Service endpoints (default: the primary IPv4 address)' },
  { name: 'tls-san', type: 'list', default: () => [], help: 'Extra host names or IPs for the serving certificate (repeatable, comma-separated)' },
  { name: 'write-kubeconfig', type: 'string', default: () => undefined, help: 'Where to write the admin kubeconfig (default: <data-dir>/kubeconfig.yaml)', env: 'KTS_KUBECONFIG_OUTPUT' },
  { name: 'write-kubeconfig-mode', type: 'string', default: () => '0600', help: 'File mode of the written kubeconfig' },
  { name: 'datastore-endpoint', type: 'string', default: () => undefined, help: 'etcd endpoints, http(s)://host:2379[,host2:2379] (default: embedded SQLite in the data dir)', env: 'KTS_DATASTORE_ENDPOINT' },
  { name: 'service-cidr', type: 'string', default: () => '10.96.0.0/12', help: 'IPv4 range for Service cluster IPs' },
  { name: 'cluster-cidr', type: 'string', default: () => '10.244.0.0/16', help: 'IPv4 range for pod IPs' },
  { name: 'service-node-port-range', type: 'string', default: () => '30000-32767', help: 'Port range for NodePort Services' },
  { name: 'metric-resolution', type: 'string', default: () => '15s', help: 'How often the built-in metrics-server scrapes the kubelets for kubectl top (Go duration)' },
  { name: 'simulated-nodes', type: 'number', default: () => 0, help: 'Register this many simulated nodes (no containers; pods run on a schedule)' },
  { name: 'node-monitor-grace-period', type: 'string', default: () => '50s', help: 'How long a running node may go without a heartbeat before the node lifecycle controller marks it Unknown (Go duration, e.g. 50s, 1m)' },
  { name: 'disable-agent', type: 'boolean', default: () => false, help: 'Do not run a kubelet for this server\'s own node' },
  { name: 'container-runtime', type: 'string', default: () => 'auto', help: 'Container runtime of this node: cri, process or fake (auto: cri when containerd is on PATH and kts runs as root, else process)' },
  { name: 'container-runtime-endpoint', type: 'string', default: () => undefined, help: 'CRI socket of an external containerd (default: kts runs its own)' },
  { name: 'kubelet-root-dir', type: 'string', default: () => undefined, help: 'Kubelet state directory (default: <data-dir>/kubelet)' },
  { name: 'kubelet-port', type: 'number', default: () => 10250, help: 'HTTPS port of the kubelet (0 picks a free port)' },
  { name: 'node-name', type: 'string', default: () => undefined, help: 'Name of this server\'s node (default: the hostname, lower-cased)' },
  { name: 'pause-image', type: 'string', default: () => undefined, help: 'Sandbox (pause) image for the cri runtime' },
  { name: 'cgroup-root', type: 'string', default: () => '/', help: 'Parent cgroup of the kubepods hierarchy (QoS tiers and pod cgroups) on the cri runtime', env: 'KTS_CGROUP_ROOT' },
  { name: 'container-log-max-size', type: 'string', default: () => '10Mi', help: 'A running container\'s log file is rotated when it reaches this size (a quantity)' },
  { name: 'container-log-max-files', type: 'number', default: () => 5, help: 'Log files kept per container, the live one included (at least 2)' },
  { name: 'pod-manifests-dir', type: 'string', default: () => undefined, help: 'Directory of static pod manifests the kubelet runs, with mirror pods in the API (default: <data-dir>/pod-manifests; "" disables)' },
  { name: 'registry-config', type: 'string', default: () => undefined, help: 'registries.yaml (mirrors, auth, tls) for the containerd kts runs' },
  { name: 'log-format', type: 'string', default: () => 'text', help: 'Log format: text or json' },
  { name: 'v', type: 'boolean', default: () => false, help: 'Verbose (debug) logging' },
];

export function serverHelp(): string {
  const lines = ['Usage: kts server [flags]', '', 'Starts a Kubernetes cluster in this process and writes an admin kubeconfig.', '', 'Flags:'];
  for (const f of FLAGS) {
    const d = f.default();
    const def = d === undefined || (Array.isArray(d) && d.length === 0) ? '' : ` (default ${JSON.stringify(d)})`;
    lines.push(`  --${f.name}${f.type === 'boolean' ? '' : ` ${f.type === 'number' ? 'int' : 'string'}`}`);
    lines.push(`        ${f.help}${def}${f.env ? ` [$${f.env}]` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export function parseFlags(argv: string[]): Record<string, string | number | boolean | string[] | undefined> {
  const byName = new Map(FLAGS.map((f) => [f.name, f]));
  const out: Record<string, string | number | boolean | string[] | undefined> = {};
  const set = (f: FlagDef, raw: string | boolean) => {
    if (f.type === 'boolean') out[f.name] = raw === true || raw === 'true';
    else if (f.type === 'number') {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new Error(`invalid value ${JSON.stringify(raw)} for --${f.name}: not an integer`);
      out[f.name] = n;
    } else if (f.type === 'list') out[f.name] = [...((out[f.name] as string[]) ?? []), ...String(raw).split(',').map((s) => s.trim()).filter(Boolean)];
    else out[f.name] = String(raw);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      out['help'] = true;
      continue;
    }
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    const f = byName.get(m[1]!);
    if (!f) throw new Error(`unknown flag: --${m[1]}`);
    if (m[2] !== undefined) set(f, m[2]);
    else if (f.type === 'boolean') set(f, true);
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`flag needs an argument: --${f.name}`);
      set(f, v);
    }
  }
  return out;
}

export function resolveConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  const cli = parseFlags(argv);
  if (cli['help']) return 'help';
  const get = (name: string): unknown => {
    if (cli[name] !== undefined) return cli[name];
    const f = FLAGS.find((x) => x.name === name)!;
    if (f.env && env[f.env]) return f.type === 'number' ? Number(env[f.env]) : f.type === 'list' ? env[f.env]!.split(',') : env[f.env];
    if (fileCfg[name] !== undefined) return fileCfg[name];
    return f.default();
  };
  let fileCfg: Record<string, unknown> = {};
  const configPath = (cli['config'] as string | undefined) ?? env['KTS_CONFIG_FILE'];
  if (configPath) {
    const parsed = YAML.parse(readFileSync(configPath, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object') fileCfg = parsed as Record<string, unknown>;
  }
  const logFormat = get('log-format');
  if (logFormat !== 'text' && logFormat !== 'json') throw new Error(`invalid --log-format ${JSON.stringify(logFormat)}: text or json`);
  const tlsSAN = get('tls-san');
  const resolutionRaw = String(get('metric-resolution'));
  const metricResolutionMs = parseDuration(resolutionRaw);
  if (metricResolutionMs === undefined || metricResolutionMs <= 0) throw new Error(`invalid --metric-resolution ${JSON.stringify(resolutionRaw)}: a duration such as 15s`);
  const logSizeRaw = String(get('container-log-max-size'));
  const logSize = tryParse(logSizeRaw)?.value();
  if (logSize === undefined || logSize <= 0) throw new Error(`invalid --container-log-max-size ${JSON.stringify(logSizeRaw)}: a quantity such as 10Mi`);
  const logFiles = Number(get('container-log-max-files'));
  if (!Number.isInteger(logFiles) || logFiles < 2) throw new Error(`invalid --container-log-max-files ${logFiles}: at least 2`);
  const graceRaw = String(get('node-monitor-grace-period'));
  const nodeMonitorGracePeriodMs = parseDuration(graceRaw);
  if (nodeMonitorGracePeriodMs === undefined || nodeMonitorGracePeriodMs <= 0) throw new Error(`invalid --node-monitor-grace-period ${JSON.stringify(graceRaw)}: a duration such as 50s`);
  return {
    dataDir: String(get('data-dir')),
    bindAddress: String(get('bind-address')),
    httpsListenPort: Number(get('https-listen-port')),
    advertiseAddress: get('advertise-address') as string | undefined,
    tlsSANs: Array.isArray(tlsSAN) ? tlsSAN.map(String) : typeof tlsSAN === 'string' ? tlsSAN.split(',') : [],
    writeKubeconfig: get('write-kubeconfig') as string | undefined,
    writeKubeconfigMode: parseInt(String(get('write-kubeconfig-mode')), 8),
    datastoreEndpoint: get('datastore-endpoint') as string | undefined,
    serviceCIDR: String(get('service-cidr')),
    clusterCIDR: String(get('cluster-cidr')),
    serviceNodePortRange: String(get('service-node-port-range')),
    logFormat,
    verbose: Boolean(get('v')),
    simulatedNodes: Number(get('simulated-nodes')),
    nodeMonitorGracePeriodMs,
    metricResolutionMs,
    kubelet: get('disable-agent') === true || get('disable-agent') === 'true'
      ? undefined
      : {
          containerRuntime: String(get('container-runtime')),
          containerRuntimeEndpoint: get('container-runtime-endpoint') as string | undefined,
          rootDir: get('kubelet-root-dir') as string | undefined,
          port: Number(get('kubelet-port')),
          nodeName: get('node-name') as string | undefined,
          pauseImage: get('pause-image') as string | undefined,
          registryConfig: get('registry-config') as string | undefined,
          podManifestsDir: get('pod-manifests-dir') as string | undefined,
          cgroupRoot: String(get('cgroup-root')),
          containerLogMaxSize: logSize,
          containerLogMaxFiles: logFiles,
        },
  };
}

export async function runServerCommand(argv: string[]): Promise<void> {
  const cfg = resolveConfig(argv);
  if (cfg === 'help') {
    process.stdout.write(serverHelp());
    return;
  }
  const log = createLogger(cfg.logFormat, { verbose: cfg.verbose });
  const server = await startServer({ ...cfg, logger: log });
  process.stdout.write(`kts server is running at ${server.url}\nKubeconfig written to ${server.kubeconfigPath}\n  export KUBECONFIG=${server.kubeconfigPath}\n  kubectl get namespaces\n`);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('shutting down', { signal: sig });
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
