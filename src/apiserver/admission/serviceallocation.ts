// Service IPs and node ports. Each allocation is one key in the store, created only if
// absent, so several API servers sharing one etcd never hand out the same IP twice
// (the same idea as upstream's IPAddress objects). Released when the Service goes.
import { randomInt } from 'node:crypto';
import type { KObject } from '../../api/types.js';
import type { FieldError } from '../../api/types.js';
import { invalid as invalidField } from '../../api/validation/field.js';
import type { Store } from '../../storage/store.js';
import { KeyExistsError } from '../../storage/store.js';
import type { CIDR } from '../../util/cidr.js';
import { cidrContains, formatCIDR, ipToInt, isIPv4, nthIP } from '../../util/cidr.js';
import { invalid } from '../errors.js';
import type { AdmissionAttributes, AdmissionPlugin } from './index.js';

const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';

export interface PortRange {
  base: number;
  size: number;
}

export function parsePortRange(s: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (!m) throw new Error(`invalid port range ${JSON.stringify(s)}`);
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo > hi || hi > 65535) throw new Error(`invalid port range ${JSON.stringify(s)}`);
  return { base: lo, size: hi - lo + 1 };
}

function wantsClusterIP(svc: KObject): boolean {
  return svc.spec?.type !== 'ExternalName';
}

function wantsNodePorts(svc: KObject): boolean {
  const t = svc.spec?.type;
  if (t === 'NodePort') return true;
  if (t === 'LoadBalancer') return svc.spec?.allocateLoadBalancerNodePorts !== false;
  return false;
}

export class ServiceAllocation implements AdmissionPlugin {
  readonly name = 'ServiceAllocation';

  constructor(
    private readonly store: Store,
    readonly serviceCIDR: CIDR,
    readonly nodePorts: PortRange,
  ) {}

  /** The first usable IP: reserved for the `kubernetes` Service. */
  kubernetesServiceIP(): string {
    return nthIP(this.serviceCIDR, 1);
  }

  private isService(a: AdmissionAttributes): boolean {
    return a.decl.group === '' && a.decl.plural === 'services' && !a.subresource;
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (!this.isService(a) || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
    const svc = a.obj;
    const spec = (svc.spec ??= {});
    const taken: string[] = [];
    const errs: FieldError[] = [];
    const owner = `${a.namespace}/${a.name}`;
    const oldPorts = new Set<number>(
      a.old && wantsNodePorts(a.old) ? (a.old.spec?.ports ?? []).map((p: { nodePort?: number }) => p.nodePort).filter(Boolean) : [],
    );
    try {
      // Cluster IP: allocated once, at create or when an ExternalName service changes type.
      const oldIP: string | undefined = a.old?.spec?.clusterIP;
      if (wantsClusterIP(svc) && (!oldIP || oldIP === '')) {
        if (spec.clusterIP === 'None') {
          spec.clusterIPs = ['None'];
        } else if (spec.clusterIP) {
          const ip = String(spec.clusterIP);
          const field = 'spec.clusterIPs';
          if (!isIPv4(ip)) errs.push(invalidField(field, [ip], `failed to allocate IP ${ip}: must be a valid IP address`));
          else if (!cidrContains(this.serviceCIDR, ip) || ipToInt(ip) === this.serviceCIDR.base)
            errs.push(invalidField(field, [ip], `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${formatCIDR(this.serviceCIDR)}`));
          else if (!(await this.take(IP_PREFIX + ip, owner, a.dryRun)))
            errs.push(invalidField(field, [ip], `failed to allocate IP ${ip}: provided IP is already allocated`));
          else taken.push(IP_PREFIX + ip);
          spec.clusterIPs = [ip];
        } else {
          const ip = await this.allocateIP(owner, a.dryRun);
          if (!ip) errs.push(invalidField('spec.clusterIPs', [], 'failed to allocate IP: range is full'));
          else {
            taken.push(IP_PREFIX + ip);
            spec.clusterIP = ip;
            spec.clusterIPs = [ip];
          }
        }
        if (spec.clusterIP !== 'None' || spec.clusterIPs) {
          spec.ipFamilies ??= ['IPv4'];
          spec.ipFamilyPolicy ??= 'SingleStack';
        }
      }
      // Node ports: every port of a NodePort/LoadBalancer service gets one.
      if (wantsNodePorts(svc)) {
        const ports: { nodePort?: number }[] = Array.isArray(spec.ports) ? spec.ports : [];
        for (const [i, p] of ports.entries()) {
          if (p.nodePort) {
            if (oldPorts.has(p.nodePort)) continue;
            const n = p.nodePort;
            if (n < this.nodePorts.base || n >= this.nodePorts.base + this.nodePorts.size)
              errs.push(invalidField(`spec.ports[${i}].nodePort`, n, `provided port is not in the valid range. The range of valid ports is ${this.nodePorts.base}-${this.nodePorts.base + this.nodePorts.size - 1}`));
            else if (!(await this.take(PORT_PREFIX + n, owner, a.dryRun)))
              errs.push(invalidField(`spec.ports[${i}].nodePort`, n, 'provided port is already allocated'));
            else taken.push(PORT_PREFIX + n);
          } else {
            const n = await this.allocatePort(owner, a.dryRun);
            if (!n) errs.push(invalidField(`spec.ports[${i}].nodePort`, 0, 'range is full'));
            else {
              taken.push(PORT_PREFIX + n);
              p.nodePort = n;
            }
          }
        }
      } else if (Array.isArray(spec.ports)) {
        for (const p of spec.ports as { nodePort?: number }[]) delete p.nodePort;
      }
      if (errs.length) throw invalid('', 'Service', a.name, errs);
    } catch (e) {
      for (const k of taken) await this.release(k, a.dryRun);
      throw e;
    }
    if (a.operation === 'UPDATE') {
      // Ports the update stopped using go back to the pool.
      const now = new Set<number>(wantsNodePorts(svc) ? (spec.ports ?? []).map((p: { nodePort?: number }) => p.nodePort) : []);
      for (const n of oldPorts) if (!now.has(n)) await this.release(PORT_PREFIX + n, a.dryRun);
    }
  }

  async rollback(a: AdmissionAttributes): Promise<void> {
    if (!this.isService(a) || a.operation !== 'CREATE') return;
    await this.releaseAll(a.obj, a.dryRun);
  }

  async afterDelete(a: AdmissionAttributes): Promise<void> {
    if (!this.isService(a)) return;
    await this.releaseAll(a.obj, false);
  }

  private async releaseAll(svc: KObject, dryRun: boolean): Promise<void> {
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') await this.release(IP_PREFIX + ip, dryRun);
    for (const p of (svc.spec?.ports ?? []) as { nodePort?: number }[]) if (p.nodePort) await this.release(PORT_PREFIX + p.nodePort, dryRun);
  }

  private async take(key: string, owner: string, dryRun: boolean): Promise<boolean> {
    if (dryRun) return !(await this.store.get(key));
    try {
      await this.store.create(key, JSON.stringify({ owner }));
      return true;
    } catch (e) {
      if (e instanceof KeyExistsError) return false;
      throw e;
    }
  }

  private async release(key: string, dryRun: boolean): Promise<void> {
    if (dryRun) return;
    try {
      await this.store.delete(key);
    } catch {
      // already released
    }
  }

  private async allocateIP(owner: string, dryRun: boolean): Promise<string | undefined> {
    // Random start, then scan: offsets 2 .. size-2 (network, kubernetes Service IP, broadcast excluded).
    const usable = this.serviceCIDR.size - 3;
    if (usable <= 0) return undefined;
    const start = randomInt(usable);
    for (let i = 0; i < Math.min(usable, 4096); i++) {
      const ip = nthIP(this.serviceCIDR, 2 + ((start + i) % usable));
      if (await this.take(IP_PREFIX + ip, owner, dryRun)) return ip;
    }
    return undefined;
  }

  private async allocatePort(owner: string, dryRun: boolean): Promise<number | undefined> {
    const start = randomInt(this.nodePorts.size);
    for (let i = 0; i < this.nodePorts.size; i++) {
      const n = this.nodePorts.base + ((start + i) % this.nodePorts.size);
      if (await this.take(PORT_PREFIX + n, owner, dryRun)) return n;
    }
    return undefined;
  }

  /** Reserve the kubernetes Service IP (idempotent). */
  async reserve(ip: string, owner: string): Promise<void> {
    await this.take(IP_PREFIX + ip, owner, false);
  }
}
