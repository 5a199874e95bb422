// kubeconfig files for kubectl and client libraries: one cluster, one user, one context, with the
// certificates embedded as base64 *-data fields (the layout k3s writes to /etc/rancher/k3s/k3s.yaml).
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** https://host:port */
  server: string;
  /** PEM */
  caCert: string;
  /** PEM */
  clientCert: string;
  /** PEM */
  clientKey: string;
  clusterName?: string;
  user?: string;
  context?: string;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** The kubeconfig as an object (clientcmd's v1 Config). */
export function kubeconfigObject(opts: KubeconfigOptions) {
  const cluster = opts.clusterName ?? 'default';
  const user = opts.user ?? 'default';
  const context = opts.context ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ cluster: { 'certificate-authority-data': b64(opts.caCert), server: opts.server }, name: cluster }],
    contexts: [{ context: { cluster, user }, name: context }],
    'current-context': context,
    preferences: {},
    users: [{ name: user, user: { 'client-certificate-data': b64(opts.clientCert), 'client-key-data': b64(opts.clientKey) } }],
  };
}

/** The kubeconfig as YAML text (what `kts kubeconfig` prints). */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  // lineWidth 0: never fold the long base64 strings.
  return stringify(kubeconfigObject(opts), { lineWidth: 0 });
}

/** Writes the kubeconfig with mode 0600 (it holds a private key), creating parent directories. */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, renderKubeconfig(opts), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
