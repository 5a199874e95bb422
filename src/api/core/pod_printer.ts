// printPod from pkg/printers/internalversion/printers.go: READY, STATUS (the reason users
// read: ContainerCreating, CrashLoopBackOff, Init:0/1, Completed, Terminating …) and RESTARTS.
import type { KObject, Printer } from '../types.js';
import { age, nameColumn, ageColumn } from '../printers/util.js';
import { arr, col, isObj, type Json, str } from './helpers.js';

const isRestartableInit = (c: Json) => isObj(c) && c.restartPolicy === 'Always';

function conditionTrue(status: Record<string, Json>, type: string): boolean {
  return arr(status.conditions).some((c) => isObj(c) && c.type === type && c.status === 'True');
}

/** The STATUS, READY and RESTARTS cells of `kubectl get pods`. */
export function podStatusCells(pod: KObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = isObj(pod.spec) ? pod.spec : {};
  const status = isObj(pod.status) ? pod.status : {};
  let restarts = 0;
  let restartableRestarts = 0;
  let totalContainers = arr(spec.containers).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableRestart = 0;

  const phase = str(status.phase);
  let reason = status.reason ? str(status.reason) : phase;
  for (const c of arr(status.conditions))
    if (isObj(c) && c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const initSpecs = new Map<string, Json>();
  for (const c of arr(spec.initContainers)) {
    if (!isObj(c)) continue;
    initSpecs.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }
  const finishedAt = (cs: Json): number => {
    const t = cs?.lastState?.terminated?.finishedAt;
    const ms = t ? Date.parse(t) : NaN;
    return Number.isNaN(ms) ? 0 : ms;
  };

  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    if (!isObj(cs)) continue;
    const state = isObj(cs.state) ? cs.state : {};
    restarts += Number(cs.restartCount ?? 0);
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    const restartable = isRestartableInit(initSpecs.get(cs.name));
    if (restartable) {
      restartableRestarts += Number(cs.restartCount ?? 0);
      lastRestartableRestart = Math.max(lastRestartableRestart, finishedAt(cs));
    }
    const term = isObj(state.terminated) ? state.terminated : undefined;
    const wait = isObj(state.waiting) ? state.waiting : undefined;
    if (term && Number(term.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (wait && wait.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${arr(spec.initContainers).length}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      if (!isObj(cs)) continue;
      const state = isObj(cs.state) ? cs.state : {};
      restarts += Number(cs.restartCount ?? 0);
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      const term = isObj(state.terminated) ? state.terminated : undefined;
      const wait = isObj(state.waiting) ? state.waiting : undefined;
      if (wait && wait.reason) reason = wait.reason;
      else if (term && term.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs.ready && isObj(state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A completed container next to a running one: the pod is still running.
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart > 0) restartsStr = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsStr };
}

export const podPrinter: Printer = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  cells(pod, now) {
    const spec = isObj(pod.spec) ? pod.spec : {};
    const status = isObj(pod.status) ? pod.status : {};
    const { ready, status: reason, restarts } = podStatusCells(pod, now);
    const ips = arr(status.podIPs);
    const podIP = (isObj(ips[0]) ? str(ips[0].ip) : '') || str(status.podIP) || '<none>';
    let gates = '<none>';
    const rg = arr(spec.readinessGates);
    if (rg.length > 0) {
      let trueCount = 0;
      for (const g of rg) {
        const c = arr(status.conditions).find((c) => isObj(c) && c.type === g?.conditionType);
        if (c && c.status === 'True') trueCount++;
      }
      gates = `${trueCount}/${rg.length}`;
    }
    return [
      pod.metadata.name,
      ready,
      reason,
      restarts,
      age(pod.metadata.creationTimestamp, now),
      podIP,
      str(spec.nodeName) || '<none>',
      str(status.nominatedNodeName) || '<none>',
      gates,
    ];
  },
};
