// InterPodAffinity: required pod affinity / anti-affinity of the incoming pod, and the
// required anti-affinity of pods already running, over topology domains (a node label);
// preferred terms (both ways) as a score.
import { labelSelectorFromObject, type LabelSelector, type LabelSelectorObject } from '../../api/labels.js';
import type { KObject } from '../../api/types.js';
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

export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

export interface AffinityTerm {
  selector: LabelSelector;
  namespaces: Set<string>;
  nsSelector?: LabelSelector;
  topologyKey: string;
  weight: number;
}

interface PodAffinityTermObj {
  labelSelector?: LabelSelectorObject | null;
  namespaces?: string[] | null;
  namespaceSelector?: LabelSelectorObject | null;
  topologyKey: string;
}

function parseTerm(pod: KObject, t: PodAffinityTermObj, weight: number): AffinityTerm | undefined {
  let selector: LabelSelector;
  try {
    selector = labelSelectorFromObject(t.labelSelector ?? null);
  } catch {
    return undefined;
  }
  const namespaces = new Set(t.namespaces ?? []);
  let nsSelector: LabelSelector | undefined;
  if (t.namespaceSelector) {
    try {
      nsSelector = labelSelectorFromObject(t.namespaceSelector);
    } catch {
      nsSelector = undefined;
    }
  }
  if (namespaces.size === 0 && !nsSelector) namespaces.add(pod.metadata.namespace ?? '');
  return { selector, namespaces, nsSelector, topologyKey: t.topologyKey, weight };
}

export interface ParsedAffinity {
  required: AffinityTerm[];
  requiredAnti: AffinityTerm[];
  preferred: AffinityTerm[];
  preferredAnti: AffinityTerm[];
}

const parsedCache = new WeakMap<KObject, ParsedAffinity>();

export function parsedAffinity(pod: KObject): ParsedAffinity {
  let p = parsedCache.get(pod);
  if (p) return p;
  const a = pod.spec?.affinity ?? {};
  const req = (list: PodAffinityTermObj[] | undefined) => (list ?? []).map((t) => parseTerm(pod, t, 1)).filter((t): t is AffinityTerm => !!t);
  const pref = (list: { weight: number; podAffinityTerm: PodAffinityTermObj }[] | undefined) =>
    (list ?? []).map((w) => parseTerm(pod, w.podAffinityTerm ?? { topologyKey: '' }, w.weight)).filter((t): t is AffinityTerm => !!t);
  p = {
    required: req(a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAnti: req(a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferred: pref(a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAnti: pref(a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
  parsedCache.set(pod, p);
  return p;
}

export function termMatchesPod(term: AffinityTerm, pod: PodInfo, snap: Snapshot): boolean {
  if (!term.namespaces.has(pod.namespace)) {
    if (!term.nsSelector) return false;
    const labels = snap.namespaceLabels(pod.namespace);
    if (!term.nsSelector.matches(labels ?? {})) return false;
  }
  return term.selector.matches(pod.labels);
}

type Counts = Map<string, number>;
const pairKey = (k: string, v: string) => `${k}\x00${v}`;

interface FilterState {
  affinity: ParsedAffinity;
  existingAnti: Counts;
  affinityCounts: Counts;
  antiCounts: Counts;
}

const stateKey = 'PreFilterInterPodAffinity';
const scoreKey = 'PreScoreInterPodAffinity';

function bump(c: Counts, k: string, d: number): void {
  const n = (c.get(k) ?? 0) + d;
  if (n === 0) c.delete(k);
  else c.set(k, n);
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreFilterExtensions, PreScorePlugin, ScorePlugin {
  readonly name = 'InterPodAffinity';
  /** Weight of an existing pod's required affinity term when scoring the incoming pod (upstream's default 1). */
  constructor(private readonly hardPodAffinityWeight = 1) {}

  private updateWithPod(s: FilterState, pod: PodInfo, existing: PodInfo, node: NodeInfo, snap: Snapshot, d: number): void {
    if (existing.hasRequiredAntiAffinity) {
      for (const t of parsedAffinity(existing.pod).requiredAnti) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, pod, snap)) bump(s.existingAnti, pairKey(t.topologyKey, v), d);
      }
    }
    const req = s.affinity.required;
    if (req.length && req.every((t) => termMatchesPod(t, existing, snap))) {
      for (const t of req) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined) bump(s.affinityCounts, pairKey(t.topologyKey, v), d);
      }
    }
    for (const t of s.affinity.requiredAnti) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatchesPod(t, existing, snap)) bump(s.antiCounts, pairKey(t.topologyKey, v), d);
    }
  }

  preFilter(state: CycleState, pod: PodInfo, snap: Snapshot): Status {
    const affinity = parsedAffinity(pod.pod);
    const withAnti = snap.havePodsWithRequiredAntiAffinity();
    if (!affinity.required.length && !affinity.requiredAnti.length && withAnti.length === 0) return skip;
    const s: FilterState = { affinity, existingAnti: new Map(), affinityCounts: new Map(), antiCounts: new Map() };
    const nodes = affinity.required.length || affinity.requiredAnti.length ? snap.nodes() : withAnti;
    for (const n of nodes) for (const e of n.pods.values()) this.updateWithPod(s, pod, e, n, snap, 1);
    state.write(stateKey, s);
    return success;
  }

  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo, snap: Snapshot): void {
    const s = state.read<FilterState>(stateKey);
    if (s) this.updateWithPod(s, pod, added, node, snap, 1);
  }
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo, snap: Snapshot): void {
    const s = state.read<FilterState>(stateKey);
    if (s) this.updateWithPod(s, pod, removed, node, snap, -1);
  }
  cloneState(state: CycleState, into: CycleState): void {
    const s = state.read<FilterState>(stateKey);
    if (s)
      into.write(stateKey, { affinity: s.affinity, existingAnti: new Map(s.existingAnti), affinityCounts: new Map(s.affinityCounts), antiCounts: new Map(s.antiCounts) });
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo, snap: Snapshot): Status {
    const s = state.read<FilterState>(stateKey);
    if (!s) return success;
    // Required affinity: every term needs a matching pod in the node's domain, except for the
    // first pod of a group that matches its own terms when no such pod exists anywhere.
    if (s.affinity.required.length) {
      let ok = true;
      for (const t of s.affinity.required) {
        const v = node.labels[t.topologyKey];
        if (v === undefined || !(s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0)) {
          ok = false;
          break;
        }
      }
      if (!ok) {
        const self =
          s.affinityCounts.size === 0 &&
          s.affinity.required.every((t) => node.labels[t.topologyKey] !== undefined && termMatchesPod(t, pod, snap));
        if (!self) return unresolvable(ErrReasonAffinityRulesNotMatch);
      }
    }
    for (const t of s.affinity.requiredAnti) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && (s.antiCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return unschedulable(ErrReasonAntiAffinityRulesNotMatch);
    }
    if (s.existingAnti.size) {
      for (const [k, v] of Object.entries(node.labels)) {
        if ((s.existingAnti.get(pairKey(k, v)) ?? 0) > 0) return unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch);
      }
    }
    return success;
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: NodeInfo[], snap: Snapshot): Status {
    const a = parsedAffinity(pod.pod);
    const hasConstraints = a.preferred.length > 0 || a.preferredAnti.length > 0;
    const nodes = hasConstraints ? snap.nodes() : snap.havePodsWithAffinity();
    if (!hasConstraints && nodes.length === 0) {
      state.skipScore.add(this.name);
      return skip;
    }
    const scores: Counts = new Map();
    for (const n of nodes) {
      for (const e of n.pods.values()) {
        if (hasConstraints) {
          for (const t of a.preferred) {
            const v = n.labels[t.topologyKey];
            if (v !== undefined && termMatchesPod(t, e, snap)) bump(scores, pairKey(t.topologyKey, v), t.weight);
          }
          for (const t of a.preferredAnti) {
            const v = n.labels[t.topologyKey];
            if (v !== undefined && termMatchesPod(t, e, snap)) bump(scores, pairKey(t.topologyKey, v), -t.weight);
          }
        }
        if (!e.hasAffinity) continue;
        const ea = parsedAffinity(e.pod);
        if (this.hardPodAffinityWeight > 0)
          for (const t of ea.required) {
            const v = n.labels[t.topologyKey];
            if (v !== undefined && termMatchesPod(t, pod, snap)) bump(scores, pairKey(t.topologyKey, v), this.hardPodAffinityWeight);
          }
        for (const t of ea.preferred) {
          const v = n.labels[t.topologyKey];
          if (v !== undefined && termMatchesPod(t, pod, snap)) bump(scores, pairKey(t.topologyKey, v), t.weight);
        }
        for (const t of ea.preferredAnti) {
          const v = n.labels[t.topologyKey];
          if (v !== undefined && termMatchesPod(t, pod, snap)) bump(scores, pairKey(t.topologyKey, v), -t.weight);
        }
      }
    }
    if (scores.size === 0) {
      state.skipScore.add(this.name);
      return skip;
    }
    const byKey = new Map<string, Map<string, number>>();
    for (const [k, n] of scores) {
      const [tk, tv] = k.split('\x00') as [string, string];
      let m = byKey.get(tk);
      if (!m) byKey.set(tk, (m = new Map()));
      m.set(tv, n);
    }
    state.write(scoreKey, byKey);
    return success;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const byKey = state.read<Map<string, Map<string, number>>>(scoreKey);
    if (!byKey) return 0;
    let s = 0;
    for (const [tk, m] of byKey) {
      const v = node.labels[tk];
      if (v !== undefined) s += m.get(v) ?? 0;
    }
    return s;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: number[]): void {
    if (scores.length === 0) return;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MaxNodeScore * (scores[i]! - min)) / diff) : 0;
  }
}

