// PodTopologySpread: spread matching pods across topology domains. DoNotSchedule
// constraints filter (skew = pods in the node's domain + self - global minimum must stay
// <= maxSkew); ScheduleAnyway constraints score. Pods without constraints get upstream's
// system defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) over the pods of
// the same controller.
import { labelSelectorFromObject, type LabelSelector, type LabelSelectorObject } from '../../api/labels.js';
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type PodInfo,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type Snapshot,
  type Status,
  MaxNodeScore,
  skip,
  success,
  unresolvable,
  unschedulable,
} from '../types.js';
import { podMatchesNodeSelectorAndAffinity, tolerates } from './helpers.js';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

const HostnameKey = 'kubernetes.io/hostname';
const ZoneKey = 'topology.kubernetes.io/zone';

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  /** Whether an existing pod counts for this constraint. */
  matches(p: PodInfo): boolean;
}

export interface DefaultConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
}

/** Upstream's system default constraints. */
export const systemDefaultConstraints: DefaultConstraint[] = [
  { topologyKey: HostnameKey, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: ZoneKey, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

interface ConstraintObj {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelectorObject | null;
  minDomains?: number;
  nodeAffinityPolicy?: string;
  nodeTaintsPolicy?: string;
  matchLabelKeys?: string[];
}

/** The pod's constraints of one kind; `systemDefaulted` when they came from the defaults. */
export function podConstraints(pod: PodInfo, kind: 'DoNotSchedule' | 'ScheduleAnyway', defaults = systemDefaultConstraints): { constraints: Constraint[]; systemDefaulted: boolean } {
  const list = (pod.pod.spec?.topologySpreadConstraints ?? []) as ConstraintObj[];
  if (list.length) {
    const out: Constraint[] = [];
    for (const c of list) {
      if (c.whenUnsatisfiable !== kind) continue;
      let sel: LabelSelector;
      try {
        const obj: LabelSelectorObject = { ...(c.labelSelector ?? {}) };
        if (c.matchLabelKeys?.length && c.labelSelector) {
          obj.matchExpressions = [...(obj.matchExpressions ?? [])];
          for (const k of c.matchLabelKeys) if (k in pod.labels) obj.matchExpressions.push({ key: k, operator: 'In', values: [pod.labels[k]!] });
        }
        sel = labelSelectorFromObject(c.labelSelector ? obj : null);
      } catch {
        continue;
      }
      const ns = pod.namespace;
      out.push({
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        whenUnsatisfiable: kind,
        minDomains: c.minDomains ?? 1,
        honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
        honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
        matches: (p) => p.namespace === ns && sel.matches(p.labels),
      });
    }
    return { constraints: out, systemDefaulted: false };
  }
  // System defaults spread the pods of one controller (upstream derives the selector from
  // the Services/ReplicaSets/StatefulSets selecting the pod; the owner is the same group).
  if (!pod.ownerUid) return { constraints: [], systemDefaulted: true };
  const owner = pod.ownerUid;
  const ns = pod.namespace;
  return {
    constraints: defaults
      .filter((d) => d.whenUnsatisfiable === kind)
      .map((d) => ({
        ...d,
        minDomains: 1,
        honorAffinity: true,
        honorTaints: false,
        matches: (p: PodInfo) => p.namespace === ns && p.ownerUid === owner,
      })),
    systemDefaulted: true,
  };
}

function nodeQualifies(pod: PodInfo, node: NodeInfo, c: Constraint): boolean {
  if (c.honorAffinity && !podMatchesNodeSelectorAndAffinity(pod.pod.spec, node)) return false;
  if (c.honorTaints) {
    for (const t of node.taints) if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.pod.spec?.tolerations, t)) return false;
  }
  return true;
}

function countOnNode(c: Constraint, node: NodeInfo): number {
  let n = 0;
  for (const p of node.pods.values()) if (!p.terminating && c.matches(p)) n++;
  return n;
}

interface FilterState {
  constraints: Constraint[];
  /** Per constraint: domain value -> matching pods. */
  counts: Map<string, number>[];
}

const stateKey = 'PreFilterPodTopologySpread';
const scoreKey = 'PreScorePodTopologySpread';

interface ScoreState {
  constraints: Constraint[];
  weights: number[];
  counts: Map<string, number>[];
  ignored: Set<string>;
  requireAll: boolean;
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreFilterExtensions, PreScorePlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';
  constructor(private readonly defaults = systemDefaultConstraints) {}

  preFilter(state: CycleState, pod: PodInfo, snap: Snapshot): Status {
    const { constraints } = podConstraints(pod, 'DoNotSchedule', this.defaults);
    if (constraints.length === 0) return skip;
    const counts = constraints.map(() => new Map<string, number>());
    for (const n of snap.nodes()) {
      if (!constraints.every((c) => n.labels[c.topologyKey] !== undefined)) continue;
      constraints.forEach((c, i) => {
        if (!nodeQualifies(pod, n, c)) return;
        const v = n.labels[c.topologyKey]!;
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countOnNode(c, n));
      });
    }
    state.write(stateKey, { constraints, counts } satisfies FilterState);
    return success;
  }

  private update(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const s = state.read<FilterState>(stateKey);
    if (!s || other.terminating) return;
    if (!s.constraints.every((c) => node.labels[c.topologyKey] !== undefined)) return;
    s.constraints.forEach((c, i) => {
      if (!nodeQualifies(pod, node, c) || !c.matches(other)) return;
      const v = node.labels[c.topologyKey]!;
      s.counts[i]!.set(v, (s.counts[i]!.get(v) ?? 0) + d);
    });
  }
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
    this.update(state, pod, added, node, 1);
  }
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void {
    this.update(state, pod, removed, node, -1);
  }
  cloneState(state: CycleState, into: CycleState): void {
    const s = state.read<FilterState>(stateKey);
    if (s) into.write(stateKey, { constraints: s.constraints, counts: s.counts.map((m) => new Map(m)) });
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const s = state.read<FilterState>(stateKey);
    if (!s) return success;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = node.labels[c.topologyKey];
      if (v === undefined) return unresolvable(ErrReasonNodeLabelNotMatch);
      const counts = s.counts[i]!;
      let min = Infinity;
      for (const n of counts.values()) if (n < min) min = n;
      if (min === Infinity || counts.size < c.minDomains) min = 0;
      const self = c.matches(pod) ? 1 : 0;
      const skew = (counts.get(v) ?? 0) + self - min;
      if (skew > c.maxSkew) return unschedulable(ErrReasonConstraintsNotMatch);
    }
    return success;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snap: Snapshot): Status {
    const { constraints, systemDefaulted } = podConstraints(pod, 'ScheduleAnyway', this.defaults);
    if (constraints.length === 0) {
      state.skipScore.add(this.name);
      return skip;
    }
    const requireAll = !systemDefaulted;
    const ignored = new Set<string>();
    const domains = constraints.map(() => new Set<string>());
    for (const n of nodes) {
      if (requireAll && !constraints.every((c) => n.labels[c.topologyKey] !== undefined)) {
        ignored.add(n.name);
        continue;
      }
      constraints.forEach((c, i) => {
        const v = n.labels[c.topologyKey];
        if (v !== undefined) domains[i]!.add(v);
      });
    }
    const counts = constraints.map(() => new Map<string, number>());
    // Hostname constraints count per scored node; others over every qualifying node.
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i]!;
      const src = c.topologyKey === HostnameKey ? nodes : snap.nodes();
      for (const n of src) {
        const v = n.labels[c.topologyKey];
        if (v === undefined || !domains[i]!.has(v)) continue;
        if (requireAll && !constraints.every((cc) => n.labels[cc.topologyKey] !== undefined)) continue;
        if (!nodeQualifies(pod, n, c)) continue;
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countOnNode(c, n));
      }
    }
    const weights = domains.map((d) => Math.log(d.size + 2));
    state.write(scoreKey, { constraints, weights, counts, ignored, requireAll } satisfies ScoreState);
    return success;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<ScoreState>(scoreKey);
    if (!s || s.ignored.has(node.name)) return 0;
    let total = 0;
    s.constraints.forEach((c, i) => {
      const v = node.labels[c.topologyKey];
      if (v === undefined) return;
      const cnt = s.counts[i]!.get(v) ?? 0;
      total += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(total);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: number[], names?: string[]): void {
    const s = state.read<ScoreState>(scoreKey);
    if (!s) return;
    const ign = (i: number) => (names ? s.ignored.has(names[i]!) : false);
    let min = Infinity;
    let max = 0;
    scores.forEach((v, i) => {
      if (ign(i)) return;
      if (v < min) min = v;
      if (v > max) max = v;
    });
    for (let i = 0; i < scores.length; i++) {
      if (ign(i)) scores[i] = 0;
      else if (max === 0) scores[i] = MaxNodeScore;
      else scores[i] = Math.trunc((MaxNodeScore * (max + min - scores[i]!)) / max);
    }
  }
}
