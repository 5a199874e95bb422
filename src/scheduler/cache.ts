// The scheduler's cache: nodes and the pods assigned to them, including pods it has
// assumed (chosen a node for) whose binding has not shown up in the informer yet, so the
// next pod sees their resources as taken. Also nominated pods (preemptors waiting for
// their victims to go) and namespace labels (for namespaceSelector).
import type { KObject } from '../api/types.js';
import { NodeInfo, type PodInfo, type Snapshot } from './types.js';

const noPods: PodInfo[] = [];

export class SchedulerCache implements Snapshot {
  private infos = new Map<string, NodeInfo>();
  /** Nodes that exist (an info may outlive its node while pods still name it). */
  private present = new Set<string>();
  private order: NodeInfo[] | undefined;
  private podNode = new Map<string, string>();
  private assumed = new Set<string>();
  private nsLabels = new Map<string, Record<string, string>>();
  private nominated = new Map<string, Map<string, PodInfo>>();
  private nominatedOf = new Map<string, string>();
  private withAffinity = 0;
  private withAntiAffinity = 0;

  private info(name: string): NodeInfo {
    let i = this.infos.get(name);
    if (!i) {
      i = new NodeInfo();
      i.name = name;
      this.infos.set(name, i);
    }
    return i;
  }

  // ---- nodes ----
  addNode(node: KObject): void {
    const name = node.metadata.name!;
    this.info(name).setNode(node);
    if (!this.present.has(name)) {
      this.present.add(name);
      this.order = undefined;
    }
  }
  updateNode(node: KObject): void {
    this.addNode(node);
  }
  removeNode(node: KObject): void {
    const name = node.metadata.name!;
    this.present.delete(name);
    this.order = undefined;
    const i = this.infos.get(name);
    if (i && i.pods.size === 0) this.infos.delete(name);
  }
  nodeCount(): number {
    return this.present.size;
  }

  // ---- pods ----
  private place(pi: PodInfo, nodeName: string): void {
    const prev = this.podNode.get(pi.key);
    if (prev !== undefined) this.unplace(pi.key);
    this.info(nodeName).addPod(pi);
    this.podNode.set(pi.key, nodeName);
    if (pi.hasAffinity) this.withAffinity++;
    if (pi.hasRequiredAntiAffinity) this.withAntiAffinity++;
  }
  private unplace(key: string): PodInfo | undefined {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return undefined;
    this.podNode.delete(key);
    const info = this.infos.get(nodeName);
    const pi = info?.removePod(key);
    if (pi?.hasAffinity) this.withAffinity--;
    if (pi?.hasRequiredAntiAffinity) this.withAntiAffinity--;
    if (info && info.pods.size === 0 && !this.present.has(nodeName)) this.infos.delete(nodeName);
    return pi;
  }

  /** A pod the scheduler chose a node for: counts at once. */
  assumePod(pi: PodInfo, nodeName: string): void {
    pi.nodeName = nodeName;
    this.place(pi, nodeName);
    this.assumed.add(pi.key);
  }
  /** The binding failed: undo the assumption. */
  forgetPod(key: string): void {
    if (!this.assumed.delete(key)) return;
    this.unplace(key);
  }
  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** An assigned pod from the informer (confirms an assumed one). */
  addPod(pi: PodInfo): void {
    this.assumed.delete(pi.key);
    this.place(pi, pi.nodeName);
  }
  updatePod(pi: PodInfo): void {
    this.addPod(pi);
  }
  removePod(key: string): void {
    this.assumed.delete(key);
    this.unplace(key);
  }
  hasPod(key: string): boolean {
    return this.podNode.has(key);
  }
  nodeOf(key: string): string | undefined {
    return this.podNode.get(key);
  }

  // ---- namespaces ----
  setNamespace(ns: KObject): void {
    this.nsLabels.set(ns.metadata.name!, ns.metadata.labels ?? {});
  }
  removeNamespace(ns: KObject): void {
    this.nsLabels.delete(ns.metadata.name!);
  }

  // ---- nominated pods ----
  nominate(pi: PodInfo, nodeName: string | undefined): void {
    const prev = this.nominatedOf.get(pi.key);
    if (prev !== undefined) {
      this.nominated.get(prev)?.delete(pi.key);
      this.nominatedOf.delete(pi.key);
    }
    if (!nodeName) return;
    let m = this.nominated.get(nodeName);
    if (!m) this.nominated.set(nodeName, (m = new Map()));
    m.set(pi.key, pi);
    this.nominatedOf.set(pi.key, nodeName);
  }
  unnominate(key: string): void {
    const prev = this.nominatedOf.get(key);
    if (prev === undefined) return;
    this.nominated.get(prev)?.delete(key);
    this.nominatedOf.delete(key);
  }

  // ---- Snapshot ----
  nodes(): NodeInfo[] {
    if (!this.order) this.order = [...this.present].map((n) => this.infos.get(n)!).filter(Boolean);
    return this.order;
  }
  get(name: string): NodeInfo | undefined {
    return this.present.has(name) ? this.infos.get(name) : undefined;
  }
  namespaceLabels(ns: string): Record<string, string> | undefined {
    return this.nsLabels.get(ns);
  }
  nominatedPods(nodeName: string): PodInfo[] {
    if (this.nominatedOf.size === 0) return noPods;
    const m = this.nominated.get(nodeName);
    return m && m.size ? [...m.values()] : noPods;
  }
  havePodsWithAffinity(): NodeInfo[] {
    return this.withAffinity > 0 ? this.nodes().filter((n) => n.podsWithAffinity > 0) : [];
  }
  havePodsWithRequiredAntiAffinity(): NodeInfo[] {
    return this.withAntiAffinity > 0 ? this.nodes().filter((n) => n.podsWithRequiredAntiAffinity > 0) : [];
  }
}
