// Address bookkeeping for simulated nodes: pod CIDRs per node (like the controller manager's
// range allocator: the i-th free /24 of the cluster CIDR), node InternalIPs, and pod IPs
// inside a node's CIDR.
import { ipToInt, intToIp, parseCIDR, type CIDR } from '../../util/cidr.js';

/**
 * Hands out /<maskSize> subnets of the cluster CIDR. The default 10.244.0.0/16 holds only
 * 256 /24s (as upstream with the same flags); beyond that we continue in the overflow range
 * 100.64.0.0/10 (16,384 more /24s) so 5,000-node simulations still get pod CIDRs.
 */
export class PodCIDRAllocator {
  private readonly ranges: CIDR[];
  private readonly subnetSize: number;
  private readonly used = new Set<number>();

  constructor(clusterCIDR = '10.244.0.0/16', readonly maskSize = 24, overflow = '100.64.0.0/10') {
    this.ranges = [parseCIDR(clusterCIDR), parseCIDR(overflow)];
    this.subnetSize = 2 ** (32 - maskSize);
  }

  /** Total subnets in all ranges. */
  private subnetsIn(r: CIDR): number {
    return Math.max(0, Math.floor(r.size / this.subnetSize));
  }

  private baseOf(index: number): number | undefined {
    let i = index;
    for (const r of this.ranges) {
      const n = this.subnetsIn(r);
      if (i < n) return (r.base + i * this.subnetSize) >>> 0;
      i -= n;
    }
    return undefined;
  }

  /** Records a CIDR some node already has. */
  occupy(cidr: string): void {
    try {
      this.used.add(parseCIDR(cidr).base);
    } catch {
      // not ours to worry about
    }
  }

  release(cidr: string): void {
    try {
      this.used.delete(parseCIDR(cidr).base);
    } catch {
      // ignore
    }
  }

  /** The preferred subnet (index-th) when free, else the first free one. */
  allocate(preferredIndex = 0): string | undefined {
    const pref = this.baseOf(preferredIndex);
    if (pref !== undefined && !this.used.has(pref)) {
      this.used.add(pref);
      return `${intToIp(pref)}/${this.maskSize}`;
    }
    for (let i = 0; ; i++) {
      const b = this.baseOf(i);
      if (b === undefined) return undefined;
      if (!this.used.has(b)) {
        this.used.add(b);
        return `${intToIp(b)}/${this.maskSize}`;
      }
    }
  }
}

/** Node InternalIPs from 172.18.0.0/16 starting at .2 (as kind's docker network does). */
export class NodeIPAllocator {
  private readonly base = ipToInt('172.18.0.0');
  private readonly used = new Set<number>();

  occupy(ip: string): void {
    try {
      this.used.add(ipToInt(ip));
    } catch {
      // ignore
    }
  }

  release(ip: string): void {
    try {
      this.used.delete(ipToInt(ip));
    } catch {
      // ignore
    }
  }

  allocate(preferredIndex = 0): string {
    const pref = this.base + 2 + preferredIndex;
    if (!this.used.has(pref)) {
      this.used.add(pref);
      return intToIp(pref);
    }
    for (let n = this.base + 2; n < this.base + 65535; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return intToIp(n);
      }
    }
    throw new Error('no free node addresses in 172.18.0.0/16');
  }
}

/** Pod IPs of one node: .2 … broadcast-1 of its pod CIDR (.1 is the bridge's gateway). */
export class PodIPPool {
  private readonly cidr: CIDR;
  private readonly used = new Set<number>();
  private next = 2;

  constructor(podCIDR: string) {
    this.cidr = parseCIDR(podCIDR);
  }

  contains(ip: string): boolean {
    try {
      const n = ipToInt(ip);
      return n >= this.cidr.base && n < this.cidr.base + this.cidr.size;
    } catch {
      return false;
    }
  }

  occupy(ip: string): void {
    if (this.contains(ip)) this.used.add(ipToInt(ip) - this.cidr.base);
  }

  release(ip: string): void {
    if (this.contains(ip)) this.used.delete(ipToInt(ip) - this.cidr.base);
  }

  /** Next free address after the last one handed out (round robin, as host-local IPAM). */
  allocate(): string | undefined {
    const last = this.cidr.size - 2;
    if (last < 2) return undefined;
    for (let tries = 0; tries <= last - 1; tries++) {
      const off = this.next;
      this.next = this.next >= last ? 2 : this.next + 1;
      if (!this.used.has(off)) {
        this.used.add(off);
        return intToIp((this.cidr.base + off) >>> 0);
      }
    }
    return undefined;
  }

  size(): number {
    return this.used.size;
  }
}
