// Which runtime `kts server|agent --container-runtime` means: cri (containerd, engineer B's
// src/kubelet/runtime/cri, imported lazily), process or fake. Default: cri when `containerd`
// is on PATH and kts runs as root, else process.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from '../../util/log.js';
import type { RuntimeFactory } from '../kubelet.js';
import { FakeRuntime } from './fake.js';
import { ProcessRuntime } from './process.js';

export type RuntimeKind = 'cri' | 'process' | 'fake';

/** Looks containerd up on PATH without running it (start-up stays fast). */
export function containerdOnPath(): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'containerd'), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The runtime to use and why (logged at start). */
export function chooseRuntime(requested: string | undefined): { kind: RuntimeKind; reason: string } {
  if (requested === 'cri' || requested === 'process' || requested === 'fake') return { kind: requested, reason: '--container-runtime' };
  if (requested && requested !== 'auto') throw new Error(`invalid --container-runtime ${JSON.stringify(requested)}: cri, process or fake`);
  if (!containerdOnPath()) return { kind: 'process', reason: 'containerd not found on PATH' };
  // containerd needs root (mounts, cgroups, network namespaces).
  if (process.getuid?.() !== 0) return { kind: 'process', reason: 'containerd found on PATH, but kts is not running as root' };
  return { kind: 'cri', reason: 'containerd found on PATH' };
}

export interface RuntimeFactoryOptions {
  rootDir: string;
  log: Logger;
  /** CRI endpoint of an external containerd (cri only). */
  endpoint?: string;
  pauseImage?: string;
  registryConfig?: string;
  /** Linux bridge of the pod network (cri with kts's own containerd; default kts0, or $KTS_CNI_BRIDGE). */
  cniBridge?: string;
}

export function runtimeFactory(kind: RuntimeKind, o: RuntimeFactoryOptions): RuntimeFactory {
  return async ({ podCIDR, hostIP }) => {
    if (kind === 'process') return new ProcessRuntime(o.rootDir, { hostIP });
    if (kind === 'fake') return new FakeRuntime({ podCIDR });
    let mod: { createCRIRuntime?: (opts: Record<string, unknown>) => Promise<import('./types.js').ContainerRuntime> };
    try {
      const path = './cri/index.js';
      mod = (await import(path)) as typeof mod;
    } catch (e) {
      throw new Error(`the cri runtime is not available in this build (${(e as Error).message}); use --container-runtime process`);
    }
    if (!mod.createCRIRuntime) throw new Error('the cri runtime is not available in this build; use --container-runtime process');
    return mod.createCRIRuntime({ rootDir: o.rootDir, podCIDR, log: o.log, endpoint: o.endpoint, pauseImage: o.pauseImage, registryConfig: o.registryConfig, cniBridge: o.cniBridge });
  };
}
