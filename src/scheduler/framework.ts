// The framework: one profile's plugins at their extension points, and the scheduling
// algorithm (PreFilter, Filter over a rotating sample of nodes, PreScore, Score,
// NormalizeScore, weighted sum, random tie-break) plus FitError's message.
import { InterPodAffinity } from './plugins/interpodaffinity.js';
import { NodeAffinity } from './plugins/nodeaffinity.js';
import { NodeName } from './plugins/nodename.js';
import { NodePorts } from './plugins/nodeports.js';
import { NodeResourcesBalancedAllocation } from './plugins/balancedallocation.js';
import { NodeResourcesFit } from './plugins/noderesourcesfit.js';
import { NodeUnschedulable } from './plugins/nodeunschedulable.js';
import { PodTopologySpread } from './plugins/podtopologyspread.js';
import { TaintToleration } from './plugins/tainttoleration.js';
import { Code, CycleState, type AnyPlugin, type NodeInfo, type PodInfo, type Snapshot, type Status, isRejected, success } from './types.js';

export interface ProfileConfig {
  schedulerName: string;
  /** Score weights by plugin name (upstream defaults otherwise); 0 disables a score plugin. */
  weights?: Record<string, number>;
  /** Plugins to leave out entirely. */
  disabled?: string[];
  /** 0 = adaptive (upstream's default). */
  percentageOfNodesToScore?: number;
}

/** Upstream's default score weights. */
export const defaultWeights: Record<string, number> = {
  TaintToleration: 3,
  NodeAffinity: 2,
  PodTopologySpread: 2,
  InterPodAffinity: 2,
  NodeResourcesFit: 1,
  NodeResourcesBalancedAllocation: 1,
};

/** The default plugins, in upstream's filter order. */
export function defaultPlugins(): AnyPlugin[] {
  return [
    new NodeUnschedulable(),
    new NodeName(),
    new TaintToleration(),
    new NodeAffinity(),
    new NodePorts(),
    new NodeResourcesFit(),
    new PodTopologySpread(),
    new InterPodAffinity(),
    new NodeResourcesBalancedAllocation(),
  ];
}

export const NoNodesAvailable = 'no nodes available to schedule pods';

/** framework.FitError: why no node fits, per node. */
export class FitError {
  postFilterMsg = '';
  constructor(
    readonly numAllNodes: number,
    /** nodeName -> the status that rejected it */
    readonly statuses: Map<string, Status>,
    readonly preFilterMsg = '',
  ) {}

  /** Plugins that rejected the pod (for queueing hints). */
  plugins(): Set<string> {
    const s = new Set<string>();
    for (const st of this.statuses.values()) if (st.plugin) s.add(st.plugin);
    return s;
  }

  get message(): string {
    return fitErrorMessage(this.numAllNodes, this.statuses.values(), this.postFilterMsg, this.preFilterMsg);
  }
}

/** "0/N nodes are available: <count reason, ...sorted>." plus the PostFilter message. */
export function fitErrorMessage(numAllNodes: number, statuses: Iterable<Status>, postFilterMsg = '', preFilterMsg = ''): string {
  let msg: string;
  if (preFilterMsg) msg = `0/${numAllNodes} nodes are available: ${preFilterMsg}.`;
  else {
    const hist = new Map<string, number>();
    for (const st of statuses) for (const r of st.reasons) hist.set(r, (hist.get(r) ?? 0) + 1);
    const parts = [...hist].map(([r, n]) => `${n} ${r}`).sort();
    msg = `0/${numAllNodes} nodes are available: ${parts.join(', ')}.`;
  }
  if (postFilterMsg) msg += ' ' + postFilterMsg;
  return msg;
}

/** How many feasible nodes to find before scoring (upstream's adaptive percentage). */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  const minNodes = 100;
  if (numAllNodes < minNodes) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < 5) pct = 5;
  }
  if (pct >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < minNodes ? minNodes : n;
}

export interface ScheduleResult {
  node?: string;
  fitError?: FitError;
  /** The cycle's state (PostFilter reuses it). */
  state: CycleState;
  evaluatedNodes: number;
  feasibleNodes: number;
}

export class Framework {
  readonly name: string;
  readonly plugins: AnyPlugin[];
  private readonly weights: Record<string, number>;
  private nextStartNodeIndex = 0;
  private readonly pct: number;
  private readonly filterPlugins: AnyPlugin[];
  private readonly preFilterPlugins: AnyPlugin[];

  constructor(
    cfg: ProfileConfig,
    plugins: AnyPlugin[] = defaultPlugins(),
    private readonly rand: () => number = Math.random,
  ) {
    this.name = cfg.schedulerName;
    const disabled = new Set(cfg.disabled ?? []);
    this.plugins = plugins.filter((p) => !disabled.has(p.name));
    this.weights = { ...defaultWeights, ...(cfg.weights ?? {}) };
    this.pct = cfg.percentageOfNodesToScore ?? 0;
    this.filterPlugins = this.plugins.filter((p) => p.filter);
    this.preFilterPlugins = this.plugins.filter((p) => p.preFilter);
  }

  weight(plugin: string): number {
    return this.weights[plugin] ?? 1;
  }

  runPreFilter(state: CycleState, pod: PodInfo, snap: Snapshot): Status {
    for (const p of this.preFilterPlugins) {
      const s = p.preFilter!(state, pod, snap);
      if (s.code === Code.Skip) state.skipFilter.add(p.name);
      else if (s.code !== Code.Success) return { ...s, plugin: p.name };
    }
    return success;
  }

  /** Filters in order, stopping at the first rejection (as upstream). */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot): Status {
    const skipped = state.skipFilter.size > 0;
    for (const p of this.filterPlugins) {
      if (skipped && state.skipFilter.has(p.name)) continue;
      const s = p.filter!(state, pod, node, snap);
      if (s.code !== Code.Success) return { ...s, plugin: p.name };
    }
    return success;
  }

  cloneState(state: CycleState): CycleState {
    const c = new CycleState();
    c.skipFilter = new Set(state.skipFilter);
    for (const p of this.plugins) p.cloneState?.(state, c);
    return c;
  }

  addPodToState(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo, snap: Snapshot): void {
    for (const p of this.plugins) if (!state.skipFilter.has(p.name)) p.addPod?.(state, pod, added, node, snap);
  }
  removePodFromState(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo, snap: Snapshot): void {
    for (const p of this.plugins) if (!state.skipFilter.has(p.name)) p.removePod?.(state, pod, removed, node, snap);
  }

  /**
   * Filters with the pods nominated to this node (priority >= the pod's) counted as if they
   * were running, so a preemptor's room is not taken by others.
   */
  runFiltersWithNominated(state: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot): Status {
    const all = snap.nominatedPods(node.name);
    if (all.length === 0) return this.runFilters(state, pod, node, snap);
    const nominated = all.filter((n) => n.uid !== pod.uid && n.priority >= pod.priority && !node.pods.has(n.key));
    if (nominated.length === 0) return this.runFilters(state, pod, node, snap);
    const n2 = node.clone();
    const s2 = this.cloneState(state);
    for (const np of nominated) {
      n2.addPod(np);
      this.addPodToState(s2, pod, np, n2, snap);
    }
    return this.runFilters(s2, pod, n2, snap);
  }

  /** One scheduling cycle's algorithm: the chosen node, or why none fits. */
  schedule(pod: PodInfo, snap: Snapshot): ScheduleResult {
    const state = new CycleState();
    const all = snap.nodes();
    if (all.length === 0) return { state, fitError: new FitError(0, new Map(), ''), evaluatedNodes: 0, feasibleNodes: 0 };
    const pre = this.runPreFilter(state, pod, snap);
    if (isRejected(pre) || pre.code === Code.Error) {
      const statuses = new Map<string, Status>();
      for (const n of all) statuses.set(n.name, pre);
      return { state, fitError: new FitError(all.length, statuses, pre.reasons.join(', ')), evaluatedNodes: all.length, feasibleNodes: 0 };
    }
    const want = numFeasibleNodesToFind(all.length, this.pct);
    const feasible: NodeInfo[] = [];
    const statuses = new Map<string, Status>();
    const n = all.length;
    let processed = 0;
    const start = this.nextStartNodeIndex % n;
    for (let i = 0; i < n && feasible.length < want; i++) {
      const node = all[(start + i) % n]!;
      processed++;
      const s = this.runFiltersWithNominated(state, pod, node, snap);
      if (s.code === Code.Success) feasible.push(node);
      else statuses.set(node.name, s);
    }
    this.nextStartNodeIndex = (start + processed) % n;
    if (feasible.length === 0) return { state, fitError: new FitError(n, statuses), evaluatedNodes: processed, feasibleNodes: 0 };
    if (feasible.length === 1) return { state, node: feasible[0]!.name, evaluatedNodes: processed, feasibleNodes: 1 };
    const totals = this.score(state, pod, feasible, snap);
    return { state, node: this.selectHost(feasible, totals), evaluatedNodes: processed, feasibleNodes: feasible.length };
  }

  /** Weighted sum of every score plugin's normalized scores, per node. */
  score(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snap: Snapshot): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    const scorers = this.plugins.filter((p) => p.score && this.weight(p.name) > 0);
    for (const p of scorers) p.preScore?.(state, pod, nodes, snap);
    let names: string[] | undefined;
    for (const p of scorers) {
      if (state.skipScore.has(p.name)) continue;
      const scores = nodes.map((node) => p.score!(state, pod, node, snap));
      if (p.normalizeScore) {
        names ??= nodes.map((x) => x.name);
        p.normalizeScore(state, pod, scores, names);
      }
      const w = this.weight(p.name);
      for (let i = 0; i < scores.length; i++) totals[i]! += scores[i]! * w;
    }
    return totals;
  }

  /** The highest total; ties broken uniformly at random (reservoir sampling). */
  selectHost(nodes: NodeInfo[], totals: number[]): string {
    let best = -Infinity;
    let chosen = 0;
    let ties = 0;
    for (let i = 0; i < totals.length; i++) {
      const t = totals[i]!;
      if (t > best) {
        best = t;
        chosen = i;
        ties = 1;
      } else if (t === best) {
        ties++;
        if (this.rand() * ties < 1) chosen = i;
      }
    }
    return nodes[chosen]!.name;
  }
}
