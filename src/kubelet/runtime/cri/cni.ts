// The pod network on one node: a CNI conflist for Debian's containernetworking-plugins —
// `bridge` (gateway on the bridge, masquerade, hairpin for a pod reaching itself through a
// Service) with `host-local` IPAM over the node's pod CIDR and a default route, then `portmap`
// for hostPort mappings. containerd adds `loopback` itself.
import fs from 'node:fs';
import path from 'node:path';

/** Where Debian puts the plugins (/usr/lib/cni); upstream's default is /opt/cni/bin. */
export function findCNIBinDir(): string | undefined {
  for (const d of ['/usr/lib/cni', '/opt/cni/bin']) if (fs.existsSync(path.join(d, 'bridge'))) return d;
  return undefined;
}

export interface CNIOptions {
  podCIDR: string;
  /** Linux bridge name (default kts0). */
  bridge?: string;
  /** host-local's lease directory (default under the kubelet root). */
  dataDir: string;
  /** Network name (default "kts"). */
  name?: string;
}

export function cniConflist(o: CNIOptions): Record<string, unknown> {
  const v6 = o.podCIDR.includes(':');
  return {
    cniVersion: '0.4.0',
    name: o.name ?? 'kts',
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge ?? 'kts0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        promiscMode: false,
        ipam: {
          type: 'host-local',
          dataDir: o.dataDir,
          ranges: [[{ subnet: o.podCIDR }]],
          routes: [{ dst: v6 ? '::/0' : '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Writes <confDir>/10-kts.conflist (and removes other conf files: containerd picks the first). */
export function writeCNIConfig(confDir: string, o: CNIOptions): string {
  fs.mkdirSync(confDir, { recursive: true });
  for (const f of fs.readdirSync(confDir)) if (/\.(conf|conflist|json)$/.test(f) && f !== '10-kts.conflist') fs.rmSync(path.join(confDir, f));
  const file = path.join(confDir, '10-kts.conflist');
  fs.writeFileSync(file, JSON.stringify(cniConflist(o), null, 2) + '\n');
  return file;
}
