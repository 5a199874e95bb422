// DefaultPreemption (PostFilter): find a node where evicting lower-priority pods lets the
// pod fit, keeping as many of them as possible (reprieve, most important first), and pick
// the node whose victims matter least. Messages follow upstream's.
import { FitError, type Framework } from './framework.js';
import { Code, type CycleState, type NodeInfo, type PodInfo, type Snapshot, type Status, unresolvable } from './types.js';

export const ErrNotHelpful = 'Preemption is not helpful for scheduling';
export const ErrNoVictims = 'No preemption victims found for incoming pod';

export interface Candidate {
  node: string;
  victims: PodInfo[];
}

export interface PreemptionResult {
  candidate?: Candidate;
  /** The PostFilter message ("preemption: ..."), empty on success. */
  message: string;
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Whether the pod may preempt at all (PodEligibleToPreemptOthers). */
export function eligibleToPreempt(pod: PodInfo, snap: Snapshot, nominatedStatus: Status | undefined): string | undefined {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const nom = pod.pod.status?.nominatedNodeName as string | undefined;
  if (nom) {
    if (nominatedStatus?.code === Code.UnschedulableAndUnresolvable) return undefined;
    const node = snap.get(nom);
    if (node) {
      for (const p of node.pods.values()) if (p.terminating && p.priority < pod.priority) return 'not eligible due to a terminating pod on the nominated node.';
    }
  }
  return undefined;
}

/** SelectVictimsOnNode: the fewest lower-priority pods whose removal lets the pod fit. */
export function selectVictimsOnNode(
  fw: Framework,
  state: CycleState,
  pod: PodInfo,
  node: NodeInfo,
  snap: Snapshot,
): { victims?: PodInfo[]; status: Status } {
  const n = node.clone();
  const s = fw.cloneState(state);
  const potential: PodInfo[] = [];
  for (const p of node.pods.values()) {
    if (p.priority < pod.priority) {
      potential.push(p);
      n.removePod(p.key);
      fw.removePodFromState(s, pod, p, n, snap);
    }
  }
  if (potential.length === 0) return { status: unresolvable(ErrNoVictims) };
  const fits = fw.runFiltersWithNominated(s, pod, n, snap);
  if (fits.code !== Code.Success) return { status: fits };
  // Most important first: higher priority, then earlier start.
  potential.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
  const victims: PodInfo[] = [];
  for (const p of potential) {
    n.addPod(p);
    fw.addPodToState(s, pod, p, n, snap);
    if (fw.runFiltersWithNominated(s, pod, n, snap).code !== Code.Success) {
      n.removePod(p.key);
      fw.removePodFromState(s, pod, p, n, snap);
      victims.push(p);
    }
  }
  return { victims, status: { code: Code.Success, reasons: [] } };
}

/** pickOneNodeForPreemption (without PDBs): lowest top victim priority, lowest sum, fewest victims, latest start. */
export function pickOneNode(cands: Candidate[]): Candidate | undefined {
  if (cands.length === 0) return undefined;
  const offset = 2147483648; // MaxInt32+1, so negative priorities still add up right
  const key = (c: Candidate) => {
    const top = Math.max(...c.victims.map((v) => v.priority));
    const sum = c.victims.reduce((a, v) => a + v.priority + offset, 0);
    const topStart = Math.min(...c.victims.filter((v) => v.priority === top).map(startTime));
    return [top, sum, c.victims.length, -topStart];
  };
  let best = cands[0]!;
  let bk = key(best);
  for (const c of cands.slice(1)) {
    const k = key(c);
    for (let i = 0; i < k.length; i++) {
      if (k[i]! < bk[i]!) {
        best = c;
        bk = k;
        break;
      }
      if (k[i]! > bk[i]!) break;
    }
  }
  return best;
}

/** The PostFilter: a candidate (nominated node and victims) or the message why none. */
export function preempt(fw: Framework, state: CycleState, pod: PodInfo, snap: Snapshot, fitError: FitError, maxCandidates = 100): PreemptionResult {
  const nom = pod.pod.status?.nominatedNodeName as string | undefined;
  const notEligible = eligibleToPreempt(pod, snap, nom ? fitError.statuses.get(nom) : undefined);
  if (notEligible) return { message: 'preemption: ' + notEligible };
  const statuses = new Map<string, Status>();
  const potential: NodeInfo[] = [];
  for (const n of snap.nodes()) {
    const st = fitError.statuses.get(n.name);
    if (st?.code === Code.UnschedulableAndUnresolvable) statuses.set(n.name, unresolvable(ErrNotHelpful));
    else potential.push(n);
  }
  const cands: Candidate[] = [];
  const limit = Math.max(maxCandidates, Math.trunc(potential.length / 10));
  for (const n of potential) {
    const r = selectVictimsOnNode(fw, state, pod, n, snap);
    if (r.status.code === Code.Success && r.victims && r.victims.length) {
      cands.push({ node: n.name, victims: r.victims });
      if (cands.length >= limit) break;
    } else if (r.status.code === Code.Success) statuses.set(n.name, { code: Code.Error, reasons: [`expected at least one victim pod on node "${n.name}"`] });
    else statuses.set(n.name, r.status);
  }
  const best = pickOneNode(cands);
  if (!best) return { message: 'preemption: ' + new FitError(snap.nodes().length, statuses).message };
  return { candidate: best, message: '' };
}
