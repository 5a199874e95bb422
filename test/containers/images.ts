// Offline test images for the container tests (no network): each is Debian's static busybox
// root filesystem plus a little on top, packed as one OCI image layout and imported into
// containerd's k8s.io namespace with `ctr images import`.
//   docker.io/library/busybox:1.28   busybox, CMD ["sh"]
//   docker.io/library/nginx:1.20     an httpd stand-in on :80 serving /usr/share/nginx/html
//   docker.io/ikubernetes/myapp:v1   like the seeds' myapp: index.html "Hello MyApp | Version: v1 | …"
//                                    and /hostname.html holding the pod's hostname
// plus the sandbox ("pause") image: busybox sh that sleeps until SIGTERM.
import { execFileSync } from 'node:child_process';
import { buildAndImport, busyboxPath, pauseImageSpec, type ImageSpec, type TarEntry } from '../../src/kubelet/runtime/cri/oci.js';
import { DEFAULT_PAUSE_IMAGE } from '../../src/kubelet/runtime/cri/index.js';

export const BUSYBOX = 'docker.io/library/busybox:1.28';
export const NGINX = 'docker.io/library/nginx:1.20';
export const MYAPP = 'docker.io/ikubernetes/myapp:v1';
export const PAUSE = DEFAULT_PAUSE_IMAGE;

/** Why the image tests cannot run here, or undefined when they can. */
export function imagesUnavailable(): string | undefined {
  if (!busyboxPath()) return 'no static busybox (Debian package busybox-static)';
  try {
    execFileSync('ctr', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no ctr binary (Debian package containerd)';
  }
  return undefined;
}

const file = (name: string, content: string, mode = 0o644): TarEntry => ({ name, type: 'file', mode, data: Buffer.from(content) });
const dir = (name: string): TarEntry => ({ name, type: 'dir', mode: 0o755 });

// busybox httpd ignores SIGTERM as PID 1 (no handler); the shell's trap makes `kubectl delete` quick, as with nginx.
const entrypoint = `#!/bin/sh
root=/usr/share/nginx/html
hostname > "$root/hostname.html"
trap 'kill $pid 2>/dev/null; exit 0' TERM INT QUIT
httpd -f -v -p 80 -h "$root" &
pid=$!
wait $pid
`;

function httpdImage(name: string, index: string): ImageSpec {
  return {
    name,
    files: [dir('usr/share'), dir('usr/share/nginx'), dir('usr/share/nginx/html'), file('usr/share/nginx/html/index.html', index), file('docker-entrypoint.sh', entrypoint, 0o755)],
    entrypoint: ['/docker-entrypoint.sh'],
    exposedPorts: [80],
  };
}

export function testImages(): ImageSpec[] {
  return [
    { name: BUSYBOX, cmd: ['sh'] },
    httpdImage(NGINX, '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n'),
    httpdImage(MYAPP, 'Hello MyApp | Version: v1 | <a href="hostname.html">Pod Name</a>\n'),
    pauseImageSpec(PAUSE),
  ];
}

/** Builds the test images and imports them into the containerd listening on `socket`. */
export async function importTestImages(socket: string, workDir: string): Promise<void> {
  await buildAndImport(socket, testImages(), workDir);
}
