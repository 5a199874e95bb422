// metrics.k8s.io/v1beta1: NodeMetrics (nodes, cluster-scoped) and PodMetrics (pods, namespaced),
// read-only (get, list; no watch), as metrics-server declares them: no singular name, no short
// names, and Tables with metrics-server's columns (Name, cpu, memory, Window). Served by the API
// server from the metrics component's storage (src/metrics/storage.ts), never stored.
import type { KObject, Printer, ResourceDecl, TableColumn } from '../api/types.js';
import { Quantity, quantityOf } from '../api/quantity.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

// metrics-server's table columns (pkg/api/table.go): the usage names sorted, then the window.
const columns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
  { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
  { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
  { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
];

type Usage = Record<string, unknown>;

function sumUsage(list: Usage[], name: string): string {
  let total: Quantity | undefined;
  for (const u of list) {
    const q = quantityOf(u[name]);
    if (q) total = total ? total.add(q) : q;
  }
  return (total ?? Quantity.fromParts(0n, 0)).toString();
}

const nodePrinter: Printer = {
  columns,
  cells: (o: KObject) => [o.metadata.name, sumUsage([o.usage ?? {}], 'cpu'), sumUsage([o.usage ?? {}], 'memory'), o.window ?? ''],
};

const podPrinter: Printer = {
  columns,
  cells: (o: KObject) => {
    const usages = ((o.containers ?? []) as { usage?: Usage }[]).map((c) => c.usage ?? {});
    return [o.metadata.name, sumUsage(usages, 'cpu'), sumUsage(usages, 'memory'), o.window ?? ''];
  },
};

// Schemas for /openapi/v3 and `kubectl explain`, with k8s.io/metrics' field descriptions.
const meta = { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
const usage = {
  type: 'object',
  description: 'The memory usage is the memory working set.',
  additionalProperties: { type: 'string', description: 'A quantity: cpu in cores (e.g. "123456789n"), memory in bytes (e.g. "12345Ki").' },
};
const timestamp = {
  type: 'string',
  format: 'date-time',
  description: 'The following fields define time interval from which metrics were collected from the interval [Timestamp-Window, Timestamp].',
};
const window = { type: 'string', description: 'The length of the interval the cpu usage rate was measured over (a Go duration, e.g. "15.003s").' };

const nodeSchema = {
  type: 'object',
  description: 'NodeMetrics sets resource usage metrics of a node.',
  properties: { metadata: meta, timestamp, window, usage },
  required: ['timestamp', 'window', 'usage'],
};

const podSchema = {
  type: 'object',
  description: 'PodMetrics sets resource usage metrics of a pod.',
  properties: {
    metadata: meta,
    timestamp,
    window,
    containers: {
      type: 'array',
      description: 'Metrics for all containers are collected within the same time window.',
      items: {
        type: 'object',
        description: 'ContainerMetrics sets resource usage metrics of a container.',
        properties: { name: { type: 'string', description: 'Container name corresponding to the one from pod.spec.containers.' }, usage },
        required: ['name', 'usage'],
      },
      'x-kubernetes-list-type': 'atomic',
    },
  },
  required: ['timestamp', 'window', 'containers'],
};

export const nodeMetricsDecl: ResourceDecl = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'NodeMetrics',
  plural: 'nodes',
  // metrics-server's storages return "" from GetSingularName.
  singular: '',
  namespaced: false,
  verbs: ['get', 'list'],
  nameValidation: 'none',
  printer: nodePrinter,
  openAPISchemas: { [METRICS_VERSION]: nodeSchema },
};

export const podMetricsDecl: ResourceDecl = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'PodMetrics',
  plural: 'pods',
  singular: '',
  namespaced: true,
  verbs: ['get', 'list'],
  nameValidation: 'none',
  printer: podPrinter,
  openAPISchemas: { [METRICS_VERSION]: podSchema },
};

/** Go's time.Duration.String() of a whole number of milliseconds: "15s", "15.003s", "1m0.5s", "500ms". */
export function goDuration(ms: number): string {
  ms = Math.round(ms);
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${sign}${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const secMs = ms % 60_000;
  const sec = `${Math.floor(secMs / 1000)}${secMs % 1000 ? `.${String(secMs % 1000).padStart(3, '0').replace(/0+$/, '')}` : ''}s`;
  if (h) return `${sign}${h}h${m}m${sec}`;
  if (m) return `${sign}${m}m${sec}`;
  return `${sign}${sec}`;
}

/** A usage quantity as metrics-server writes it: cpu from nanocores (DecimalSI), memory from bytes (BinarySI). */
export function cpuQuantity(nanoCores: number): string {
  return Quantity.fromParts(BigInt(Math.max(0, Math.round(nanoCores))), -9, 'DecimalSI').toString();
}

export function memoryQuantity(bytes: number): string {
  return Quantity.fromParts(BigInt(Math.max(0, Math.round(bytes))), 0, 'BinarySI').toString();
}
