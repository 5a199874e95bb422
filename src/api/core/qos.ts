// The pod's QoS class (pkg/apis/core/helper/qos.ComputePodQOS).
import { type Quantity, quantityOf } from '../quantity.js';
import { arr, isObj, type Json } from './helpers.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const qosResources = new Set(['cpu', 'memory']);

export function computePodQOS(spec: Record<string, Json> | undefined): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let isGuaranteed = true;
  const sum = (m: Map<string, Quantity>, k: string, q: Quantity) => m.set(k, m.has(k) ? m.get(k)!.add(q) : q);
  for (const c of [...arr(spec?.containers), ...arr(spec?.initContainers)]) {
    const res = isObj(c) && isObj(c.resources) ? c.resources : {};
    for (const [name, v] of Object.entries(isObj(res.requests) ? res.requests : {})) {
      const q = quantityOf(v);
      if (qosResources.has(name) && q && q.sign() > 0) sum(requests, name, q);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(isObj(res.limits) ? res.limits : {})) {
      const q = quantityOf(v);
      if (qosResources.has(name) && q && q.sign() > 0) {
        found.add(name);
        sum(limits, name, q);
      }
    }
    if (!(found.has('cpu') && found.has('memory'))) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || lim.cmp(req) !== 0) {
        isGuaranteed = false;
        break;
      }
    }
  }
  return isGuaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
