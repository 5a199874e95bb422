// kubectl e2e: the imperative commands — create <kind>, run (client and server dry-run),
// expose — plus describe for each kind, get events, get cs, and deleting a namespace with
// its contents. kubectl 1.27, 1.32 and 1.33.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { VERSIONS, skipReason, startCluster, table, type Cluster } from './harness.js';

const skip = skipReason();

describe('kubectl create <kind>, run, expose, describe, namespaces', { skip }, () => {
  let c: Cluster;
  let cert = '';
  let key = '';
  before(async () => {
    c = await startCluster();
    cert = join(c.tmp, 'tls.crt');
    key = join(c.tmp, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=e2e.example', '-days', '1'], { stdio: 'ignore' });
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    const ns = `e2e-gen-${v.replace('.', '-')}`;
    const k = (...args: string[]) => c.ok(v, ['-n', ns, ...args]);

    test(`kubectl ${v}: create namespace and the namespaced generators`, async () => {
      assert.equal(await c.ok(v, ['create', 'namespace', ns]), `namespace/${ns} created\n`);
      const file = await c.file(`${v}/app.properties`, 'color=blue\n');
      assert.equal(await k('create', 'configmap', 'cfg', '--from-literal=k=v', `--from-file=${file}`), 'configmap/cfg created\n');
      const cm = JSON.parse(await k('get', 'cm', 'cfg', '-o', 'json')) as { data: Record<string, string> };
      assert.deepEqual(cm.data, { k: 'v', 'app.properties': 'color=blue\n' });

      assert.equal(await k('create', 'secret', 'generic', 'gen', '--from-literal=password=s3cret'), 'secret/gen created\n');
      assert.equal(Buffer.from(await k('get', 'secret', 'gen', '-o', 'jsonpath={.data.password}'), 'base64').toString(), 's3cret');
      assert.equal(await k('create', 'secret', 'tls', 'tls', `--cert=${cert}`, `--key=${key}`), 'secret/tls created\n');
      assert.equal(await k('create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p'), 'secret/reg created\n');
      const secrets = table(await k('get', 'secrets'));
      const types = Object.fromEntries(secrets.map((r) => [r['NAME'], [r['TYPE'], r['DATA']]]));
      assert.deepEqual(types['gen'], ['Opaque', '1']);
      assert.deepEqual(types['tls'], ['kubernetes.io/tls', '2']);
      assert.deepEqual(types['reg'], ['kubernetes.io/dockerconfigjson', '1']);

      assert.equal(await k('create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2', '--port=80'), 'deployment.apps/web created\n');
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.selector.matchLabels.app}'), 'web');
      assert.equal(await k('create', 'service', 'clusterip', 'cip', '--tcp=80:8080'), 'service/cip created\n');
      assert.equal(await k('create', 'service', 'nodeport', 'np', '--tcp=80:8080'), 'service/np created\n');
      const svcs = table(await k('get', 'svc'));
      const cip = svcs.find((r) => r['NAME'] === 'cip')!;
      assert.equal(cip['TYPE'], 'ClusterIP');
      assert.match(cip['CLUSTER-IP']!, /^10\.\d+\.\d+\.\d+$/);
      assert.equal(cip['PORT(S)'], '80/TCP');
      const np = svcs.find((r) => r['NAME'] === 'np')!;
      assert.equal(np['TYPE'], 'NodePort');
      assert.match(np['PORT(S)']!, /^80:3\d{4}\/TCP$/);

      assert.equal(await k('create', 'serviceaccount', 'robot'), 'serviceaccount/robot created\n');
      assert.equal(await k('create', 'job', 'once', '--image=busybox:1.36', '--', 'echo', 'hi'), 'job.batch/once created\n');
      assert.equal(await k('create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--', 'echo', 'hi'), 'cronjob.batch/tick created\n');
      const cj = table(await k('get', 'cj', 'tick'))[0]!;
      assert.equal(cj['SCHEDULE'], '*/5 * * * *');
      assert.equal(cj['SUSPEND'], 'False');
      assert.equal(await k('create', 'role', 'reader', '--verb=get,list', '--resource=pods'), 'role.rbac.authorization.k8s.io/reader created\n');
      assert.equal(await k('create', 'rolebinding', 'reader-bob', '--role=reader', '--user=bob'), 'rolebinding.rbac.authorization.k8s.io/reader-bob created\n');
      const rb = table(await k('get', 'rolebinding', 'reader-bob', '-o', 'wide'))[0]!;
      assert.equal(rb['ROLE'], 'Role/reader');
      assert.equal(rb['USERS'], 'bob');
    });

    test(`kubectl ${v}: run --dry-run=client and --dry-run=server print a Pod and create nothing`, async () => {
      const client = await k('run', 'probe', '--image=nginx', '--dry-run=client', '-o', 'yaml');
      assert.match(client, /^kind: Pod$/m);
      assert.match(client, /^ {4}run: probe$/m);
      assert.doesNotMatch(client, /uid:/);
      const server = await k('run', 'probe', '--image=nginx', '--labels=app=probe', '--dry-run=server', '-o', 'yaml');
      // Server-side defaults prove the server handled it.
      assert.match(server, /^ {4}imagePullPolicy: Always$/m);
      assert.match(server, /^ {4}terminationMessagePath: \/dev\/termination-log$/m);
      assert.match(server, /^ {2}restartPolicy: Always$/m);
      assert.match(server, /^ {2}uid: [0-9a-f-]{36}$/m);
      assert.match(server, /^ {2}namespace: e2e-gen-/m);
      const none = await c.kubectl(v, ['get', 'pod', 'probe', '-n', ns]);
      assert.match(none.stderr, /Error from server \(NotFound\): pods "probe" not found/);
      // A server-side dry run still validates.
      const bad = await c.kubectl(v, ['run', 'Bad_Name', '--image=nginx', '--dry-run=server', '-n', ns]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /The Pod "Bad_Name" is invalid: [\s\S]*metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
      // run for real.
      assert.equal(await k('run', 'probe', '--image=nginx'), 'pod/probe created\n');
    });

    test(`kubectl ${v}: expose deployment gives the Service the deployment's selector`, async () => {
      assert.equal(await k('expose', 'deployment', 'web', '--port=8080', '--target-port=80'), 'service/web exposed\n');
      assert.equal(await k('get', 'svc', 'web', '-o', 'jsonpath={.spec.selector}'), '{"app":"web"}');
      const row = table(await k('get', 'svc', 'web', '-o', 'wide'))[0]!;
      assert.equal(row['PORT(S)'], '8080/TCP');
      assert.equal(row['SELECTOR'], 'app=web');
      assert.equal(await k('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}'), '80');
    });

    test(`kubectl ${v}: describe works for each kind`, async () => {
      const cases: [string[], RegExp[]][] = [
        [['pod', 'probe'], [/^Name:\s+probe$/m, /^Namespace:\s+e2e-gen-/m, /^Containers:$/m, /^\s+Image:\s+nginx$/m, /^Events:/m]],
        [['deployment', 'web'], [/^Name:\s+web$/m, /^Selector:\s+app=web$/m, /^Replicas:\s+2 desired/m, /^StrategyType:\s+RollingUpdate$/m]],
        [['service', 'web'], [/^Name:\s+web$/m, /^Selector:\s+app=web$/m, /^Type:\s+ClusterIP$/m, /^Port:\s+<unset>\s+8080\/TCP$/m, /^TargetPort:\s+80\/TCP$/m]],
        [['configmap', 'cfg'], [/^Name:\s+cfg$/m, /^Data\n====\n/m, /^k:\n----\nv$/m]],
        [['secret', 'gen'], [/^Name:\s+gen$/m, /^Type:\s+Opaque$/m, /^password:\s+6 bytes$/m]],
        [['job', 'once'], [/^Name:\s+once$/m, /^Completions:\s+1$/m, /^Pod Template:$/m]],
        [['cronjob', 'tick'], [/^Name:\s+tick$/m, /^Schedule:\s+\*\/5 \* \* \* \*$/m, /^Suspend:\s+False$/m]],
        [['serviceaccount', 'robot'], [/^Name:\s+robot$/m]],
        [['role', 'reader'], [/^Name:\s+reader$/m, /^\s+pods\s+\[\]\s+\[\]\s+\[get list\]$/m]],
      ];
      for (const [args, want] of cases) {
        const r = await c.kubectl(v, ['describe', ...args, '-n', ns]);
        assert.equal(r.code, 0, `describe ${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, '', `describe ${args.join(' ')} wrote to stderr`);
        for (const re of want) assert.match(r.stdout, re, `describe ${args.join(' ')}:\n${r.stdout}`);
      }
      const nsOut = await c.ok(v, ['describe', 'namespace', ns]);
      assert.match(nsOut, new RegExp(`^Name:\\s+${ns}$`, 'm'));
      assert.match(nsOut, /^Status:\s+Active$/m);
      assert.match(nsOut, /^No resource quota\.$/m);
      const nodes = await c.ok(v, ['get', 'nodes', '-o', 'name']);
      for (const n of nodes.trim().split('\n').filter(Boolean)) {
        const r = await c.kubectl(v, ['describe', n]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Name:\s+\S+$/m);
      }
    });

    test(`kubectl ${v}: get events and get componentstatuses`, async () => {
      const ev = await c.kubectl(v, ['get', 'events', '-n', ns]);
      assert.equal(ev.code, 0, ev.stderr);
      if (ev.stdout) assert.deepEqual(Object.keys(table(ev.stdout)[0] ?? {}), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
      else assert.equal(ev.stderr.trim(), `No resources found in ${ns} namespace.`);
      const cs = await c.kubectl(v, ['get', 'cs']);
      assert.equal(cs.code, 0, cs.stderr);
      const rows = table(cs.stdout);
      assert.deepEqual(Object.keys(rows[0] ?? {}), ['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
      assert.ok(rows.some((r) => r['NAME']!.startsWith('etcd-') && r['STATUS'] === 'Healthy'), cs.stdout);
    });

    test(`kubectl ${v}: deleting a namespace removes it and its contents`, async () => {
      const out = await c.kubectl(v, ['delete', 'namespace', ns, '--timeout=60s']);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, `namespace "${ns}" deleted\n`);
      const gone = await c.kubectl(v, ['get', 'namespace', ns]);
      assert.match(gone.stderr, new RegExp(`Error from server \\(NotFound\\): namespaces "${ns}" not found`));
      const left = await c.kubectl(v, ['get', 'all,cm,secret,sa,role,rolebinding', '-n', ns, '-o', 'name']);
      assert.equal(left.stdout, '');
      // Creating in it again fails: NotFound, not a silent resurrection.
      const f = await c.file(`${v}/late.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: ${ns}}\n`);
      const late = await c.kubectl(v, ['create', '-f', f]);
      assert.match(late.stderr, new RegExp(`namespaces "${ns}" not found`));
    });
  }
});
