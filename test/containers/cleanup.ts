// Leaves the machine as a container test found it: containers and sandboxes removed from the
// kts-run containerd under `root`, stray shims killed, the CNI bridge deleted, mounts under
// `root` unmounted and `root` removed. Shared by every file under test/containers and bench/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createCRIRuntime } from '../../src/kubelet/runtime/cri/index.js';
import { silentLogger } from '../../src/util/log.js';
import { PAUSE } from './images.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Shim processes whose containerd lived under root (they outlive containerd by design). */
export function shimsUnder(root: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && cmd.includes(`${root}/`)) pids.push(Number(d));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Returns what had to be forced or failed, for the test's diagnostics. */
export async function cleanupCRI(root: string, bridge: string, podCIDR: string): Promise<string[]> {
  const problems: string[] = [];
  try {
    const rt = await createCRIRuntime({ rootDir: root, log: silentLogger, pauseImage: PAUSE, cniBridge: bridge, podCIDR });
    for (const c of await rt.listContainers()) {
      await rt.stopContainer(c.id, 0).catch((e) => problems.push(`stop container ${c.id}: ${e}`));
      await rt.removeContainer(c.id).catch((e) => problems.push(`remove container ${c.id}: ${e}`));
    }
    for (const p of await rt.listPodSandboxes()) {
      await rt.stopPodSandbox(p.id).catch((e) => problems.push(`stop sandbox ${p.id}: ${e}`));
      await rt.removePodSandbox(p.id).catch((e) => problems.push(`remove sandbox ${p.id}: ${e}`));
    }
    await rt.close();
  } catch (e) {
    problems.push(`cleanup runtime: ${e}`);
  }
  for (let i = 0; i < 20 && shimsUnder(root).length; i++) await sleep(100);
  const shims = shimsUnder(root);
  if (shims.length) problems.push(`killed ${shims.length} leftover shim(s)`);
  for (const pid of shims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    /* not created */
  }
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  return problems;
}
