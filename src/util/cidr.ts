// IPv4 CIDR arithmetic for Service IP ranges and node pod CIDRs.

export interface CIDR {
  base: number; // network address as an unsigned 32-bit integer
  bits: number;
  size: number;
}

export function ipToInt(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  let n = 0;
  for (const part of p) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
    n = n * 256 + Number(part);
  }
  return n >>> 0;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(s: string): boolean {
  try {
    ipToInt(s);
    return true;
  } catch {
    return false;
  }
}

export function parseCIDR(s: string): CIDR {
  const [ip, bitsS] = s.split('/');
  const bits = Number(bitsS);
  if (!ip || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`invalid CIDR ${JSON.stringify(s)}`);
  const size = 2 ** (32 - bits);
  const base = bits === 0 ? 0 : (ipToInt(ip) & ~(size - 1)) >>> 0;
  return { base, bits, size };
}

export function cidrContains(c: CIDR, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + c.size;
}

/** The index-th address of the range (0 = network address). */
export function nthIP(c: CIDR, index: number): string {
  return intToIp((c.base + index) >>> 0);
}

export function formatCIDR(c: CIDR): string {
  return `${intToIp(c.base)}/${c.bits}`;
}
