// kubectl 1.32/1.33's typed clients (`kubectl create deployment|namespace|configmap|…`) send
// request bodies as application/vnd.kubernetes.protobuf. The real kubectl against an in-process
// kts server: every create must succeed and the stored objects must carry what was asked for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { issueServingCert } from '../../src/apiserver/pki.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/log.js';

const BIN = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.32', '1.33'];
const missing = VERSIONS.filter((v) => !existsSync(join(BIN, `kubectl.${v}`)));
const skip = missing.length ? `kubectl ${missing.join(', ')} not installed under ${BIN}` : false;

let dir: string;
let server: RunningServer | undefined;
let certFile: string;
let keyFile: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(version: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      join(BIN, `kubectl.${version}`),
      ['--kubeconfig', server!.kubeconfigPath, ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(dir, `home-${version}`) }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(version: string, args: string[]): Promise<string> {
  const r = await kubectl(version, args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function getJSON(version: string, args: string[]): Promise<any> {
  return JSON.parse(await ok(version, ['get', ...args, '-o', 'json']));
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'kts-protobuf-'));
  server = await startServer({
    dataDir: join(dir, 'data'),
    bindAddress: '127.0.0.1',
    httpsListenPort: 0,
    tlsSANs: [],
    serviceCIDR: '10.96.0.0/12',
    clusterCIDR: '10.244.0.0/16',
    serviceNodePortRange: '30000-32767',
    logFormat: 'text',
    compactIntervalMs: 0,
    logger: silentLogger,
  });
  const tls = await issueServingCert(server.pki, 'web.example.com', { dns: ['web.example.com'], ips: [] });
  certFile = join(dir, 'tls.crt');
  keyFile = join(dir, 'tls.key');
  await writeFile(certFile, tls.cert);
  await writeFile(keyFile, tls.key);
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const v of VERSIONS) {
  const ns = `pb-${v.replace('.', '')}`;
  describe(`kubectl ${v}`, { skip }, () => {
    test('sends protobuf bodies', async () => {
      const r = await kubectl(v, ['create', 'configmap', `probe-${ns}`, '-n', 'default', `--from-literal=v=${v}`, '-v=8']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
    });

    test('create namespace', async () => {
      assert.equal((await ok(v, ['create', 'namespace', ns])).trim(), `namespace/${ns} created`);
      const o = await getJSON(v, ['namespace', ns]);
      assert.equal(o.metadata.name, ns);
      assert.equal(o.status.phase, 'Active');
    });

    test('create deployment --replicas=4', async () => {
      assert.equal(
        (await ok(v, ['create', 'deployment', 'myapp', '-n', ns, '--image=ikubernetes/myapp:v1', '--replicas=4', '--port=80'])).trim(),
        'deployment.apps/myapp created',
      );
      const d = await getJSON(v, ['deployment', 'myapp', '-n', ns]);
      assert.equal(d.spec.replicas, 4);
      assert.deepEqual(d.metadata.labels, { app: 'myapp' });
      assert.deepEqual(d.spec.selector, { matchLabels: { app: 'myapp' } });
      assert.deepEqual(d.spec.template.metadata.labels, { app: 'myapp' });
      const c = d.spec.template.spec.containers;
      assert.equal(c.length, 1);
      assert.equal(c[0].name, 'myapp');
      assert.equal(c[0].image, 'ikubernetes/myapp:v1');
      assert.deepEqual(c[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
      // Zero values gogo writes for non-pointer fields don't leak into the object.
      assert.equal(d.spec.paused, undefined);
      assert.equal(d.spec.minReadySeconds, undefined);
      assert.equal(c[0].stdin, undefined);
      assert.equal(c[0].workingDir, undefined);
    });

    test('create deployment --replicas=0 keeps the zero', async () => {
      await ok(v, ['create', 'deployment', 'idle', '-n', ns, '--image=busybox', '--replicas=0']);
      assert.equal((await getJSON(v, ['deployment', 'idle', '-n', ns])).spec.replicas, 0);
    });

    test('create configmap --from-literal', async () => {
      await ok(v, ['create', 'configmap', 'cfg', '-n', ns, '--from-literal=greeting=hello world', '--from-literal=empty=']);
      const o = await getJSON(v, ['configmap', 'cfg', '-n', ns]);
      assert.deepEqual(o.data, { greeting: 'hello world', empty: '' });
    });

    test('create secret generic --from-literal', async () => {
      await ok(v, ['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=username=admin', '--from-literal=password=s3cr3t']);
      const o = await getJSON(v, ['secret', 'creds', '-n', ns]);
      assert.equal(o.type, 'Opaque');
      assert.deepEqual(o.data, { username: Buffer.from('admin').toString('base64'), password: Buffer.from('s3cr3t').toString('base64') });
    });

    test('create secret tls', async () => {
      await ok(v, ['create', 'secret', 'tls', 'web-tls', '-n', ns, `--cert=${certFile}`, `--key=${keyFile}`]);
      const o = await getJSON(v, ['secret', 'web-tls', '-n', ns]);
      assert.equal(o.type, 'kubernetes.io/tls');
      assert.match(Buffer.from(o.data['tls.crt'], 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
      assert.match(Buffer.from(o.data['tls.key'], 'base64').toString(), /PRIVATE KEY-----/);
    });

    test('create service nodeport', async () => {
      await ok(v, ['create', 'service', 'nodeport', 'web', '-n', ns, '--tcp=8080:80']);
      const o = await getJSON(v, ['service', 'web', '-n', ns]);
      assert.equal(o.spec.type, 'NodePort');
      assert.deepEqual(o.spec.selector, { app: 'web' });
      assert.equal(o.spec.ports.length, 1);
      const p = o.spec.ports[0];
      assert.equal(p.name, '8080-80');
      assert.equal(p.port, 8080);
      assert.equal(p.targetPort, 80);
      assert.equal(p.protocol, 'TCP');
      assert.ok(p.nodePort >= 30000 && p.nodePort <= 32767, `nodePort ${p.nodePort}`);
    });

    test('create job', async () => {
      await ok(v, ['create', 'job', 'once', '-n', ns, '--image=busybox', '--', 'echo', 'hi']);
      const o = await getJSON(v, ['job', 'once', '-n', ns]);
      const c = o.spec.template.spec.containers[0];
      assert.equal(c.image, 'busybox');
      assert.deepEqual(c.command, ['echo', 'hi']);
      assert.equal(o.spec.template.spec.restartPolicy, 'Never');
    });

    test('create cronjob', async () => {
      await ok(v, ['create', 'cronjob', 'tick', '-n', ns, '--image=busybox', '--schedule=*/5 * * * *', '--', 'date']);
      const o = await getJSON(v, ['cronjob', 'tick', '-n', ns]);
      assert.equal(o.spec.schedule, '*/5 * * * *');
      const c = o.spec.jobTemplate.spec.template.spec.containers[0];
      assert.equal(c.image, 'busybox');
      assert.deepEqual(c.command, ['date']);
      assert.equal(o.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
    });

    test('create role and rolebinding', async () => {
      await ok(v, ['create', 'role', 'pod-reader', '-n', ns, '--verb=get,list', '--resource=pods']);
      const r = await getJSON(v, ['role', 'pod-reader', '-n', ns]);
      assert.deepEqual(r.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
      await ok(v, ['create', 'rolebinding', 'read-pods', '-n', ns, '--role=pod-reader', '--user=bob', `--serviceaccount=${ns}:robot`]);
      const b = await getJSON(v, ['rolebinding', 'read-pods', '-n', ns]);
      assert.deepEqual(b.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
      assert.deepEqual(b.subjects, [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' },
        { kind: 'ServiceAccount', name: 'robot', namespace: ns },
      ]);
    });

    test('create serviceaccount', async () => {
      assert.equal((await ok(v, ['create', 'serviceaccount', 'robot', '-n', ns])).trim(), 'serviceaccount/robot created');
      const o = await getJSON(v, ['serviceaccount', 'robot', '-n', ns]);
      assert.equal(o.metadata.name, 'robot');
      assert.equal(o.metadata.namespace, ns);
    });

    test('create quota, pdb and ingress', async () => {
      await ok(v, ['create', 'quota', 'limits', '-n', ns, '--hard=pods=0,cpu=2,memory=1Gi']);
      assert.deepEqual((await getJSON(v, ['resourcequota', 'limits', '-n', ns])).spec.hard, { pods: '0', cpu: '2', memory: '1Gi' });
      await ok(v, ['create', 'pdb', 'web-pdb', '-n', ns, '--selector=app=web', '--min-available=0']);
      const pdb = await getJSON(v, ['pdb', 'web-pdb', '-n', ns]);
      assert.equal(pdb.spec.minAvailable, 0); // an IntOrString pointer: zero is kept
      assert.deepEqual(pdb.spec.selector, { matchLabels: { app: 'web' } });
      await ok(v, ['create', 'ingress', 'web', '-n', ns, '--rule=foo.example.com/bar=web:8080']);
      const ing = await getJSON(v, ['ingress', 'web', '-n', ns]);
      assert.deepEqual(ing.spec.rules, [
        { host: 'foo.example.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 8080 } } } }] } },
      ]);
    });

    test('namespaced objects are listed', async () => {
      const out = await ok(v, ['get', 'deployments,configmaps,secrets,services,jobs,cronjobs,serviceaccounts', '-n', ns, '-o', 'name']);
      for (const want of ['deployment.apps/myapp', 'configmap/cfg', 'secret/creds', 'secret/web-tls', 'service/web', 'job.batch/once', 'cronjob.batch/tick', 'serviceaccount/robot'])
        assert.ok(out.split('\n').includes(want), `${want} missing from:\n${out}`);
    });
  });
}
