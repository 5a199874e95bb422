// Key-range helpers shared by the backends. A prefix P covers the keys k with
// P <= k < prefixEnd(P), compared as bytes (etcd) or as UTF-8 text (SQLite's BINARY
// collation); for the ASCII keys the API server writes, both orders agree.

/** The smallest string greater than every string starting with prefix, or undefined when unbounded. */
export function prefixEnd(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    if (last < 0xffff) return p.slice(0, -1) + String.fromCharCode(last + 1);
    p = p.slice(0, -1);
  }
  return undefined;
}

/** The byte-wise range end for a prefix, as etcd expects ("\0" means "no upper bound"). */
export function prefixEndBytes(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Whether key lies under prefix (string compare, like the range above). */
export function hasPrefix(key: string, prefix: string): boolean {
  return key.startsWith(prefix);
}
