// kubectl e2e: `kubectl explain` (OpenAPI v3 schemas of built-in kinds and of custom resources)
// and client-side `kubectl apply` computing strategic merge patches from those schemas, with
// kubectl 1.27, 1.32 and 1.33. Field lines are what kubectl prints against upstream: the name, a
// tab, and the type (<PodSpec>, <[]Container>, <map[string]string>, <Object> for CRD objects).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSIONS, skipReason, startCluster, type Cluster } from './harness.js';

const skip = skipReason();

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: CronTab runs a command on a schedule.
        type: object
        properties:
          spec:
            description: The desired schedule.
            type: object
            required: [cronSpec]
            properties:
              cronSpec: {type: string, description: "When to run, in cron format."}
              replicas: {type: integer}
`;

function deployment(name: string, ns: string, env: string[]): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        env:
${env.map((e) => `        - {name: ${e}, value: "1"}`).join('\n')}
        ports:
        - containerPort: 80
`;
}

describe('kubectl explain', { skip }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
    const f = await c.file('crd.yaml', CRD);
    await c.ok('1.32', ['apply', '-f', f]);
    // The CRD is served once Established; kubectl explain needs it in discovery.
    await c.ok('1.32', ['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    test(`kubectl ${v}: explain pods`, async () => {
      const out = await c.ok(v, ['explain', 'pods']);
      const lines = out.split('\n');
      assert.equal(lines[0], 'KIND:       Pod');
      assert.equal(lines[1], 'VERSION:    v1');
      assert.match(out, /^DESCRIPTION:\n    Pod is a collection of containers that can run on a host\. This resource is\n    created by clients and scheduled onto hosts\.\n/m);
      for (const field of ['apiVersion\t<string>', 'kind\t<string>', 'metadata\t<ObjectMeta>', 'spec\t<PodSpec>', 'status\t<PodStatus>']) {
        assert.ok(lines.includes(`  ${field}`), `${field} in\n${out}`);
      }
      assert.match(out, /^  spec\t<PodSpec>\n    Specification of the desired behavior of the pod\. More info:\n/m);
    });

    test(`kubectl ${v}: explain pod.spec.containers.livenessProbe`, async () => {
      const out = await c.ok(v, ['explain', 'pod.spec.containers.livenessProbe']);
      assert.match(out, /^KIND:       Pod\nVERSION:    v1\n\nFIELD: livenessProbe <Probe>\n/);
      assert.match(out, /\n    Periodic probe of container liveness\. Container will be restarted if the\n/);
      for (const field of ['exec\t<ExecAction>', 'failureThreshold\t<integer>', 'grpc\t<GRPCAction>', 'httpGet\t<HTTPGetAction>', 'periodSeconds\t<integer>', 'tcpSocket\t<TCPSocketAction>']) {
        assert.ok(out.includes(`\n  ${field}\n`), `${field} in\n${out}`);
      }
      // Required fields, int-or-string, lists and maps as kubectl names them.
      const containers = await c.ok(v, ['explain', 'pod.spec.containers']);
      assert.ok(containers.includes('\n  name\t<string> -required-\n'), containers);
      assert.ok(containers.includes('\n  env\t<[]EnvVar>\n'), containers);
      assert.ok(containers.includes('\n  ports\t<[]ContainerPort>\n'), containers);
      const port = await c.ok(v, ['explain', 'service.spec.ports.targetPort']);
      assert.match(port, /^FIELD: targetPort <IntOrString>$/m);
      const labels = await c.ok(v, ['explain', 'pod.metadata.labels']);
      assert.match(labels, /^FIELD: labels <map\[string\]string>$/m);
    });

    test(`kubectl ${v}: explain deployment --recursive`, async () => {
      const out = await c.ok(v, ['explain', 'deployment', '--recursive']);
      const lines = out.split('\n');
      assert.deepEqual(lines.slice(0, 3), ['GROUP:      apps', 'KIND:       Deployment', 'VERSION:    v1']);
      assert.ok(lines.includes('  metadata\t<ObjectMeta>'));
      assert.ok(lines.includes('    annotations\t<map[string]string>'));
      assert.ok(lines.includes('    replicas\t<integer>'));
      assert.ok(lines.includes('    selector\t<LabelSelector> -required-'));
      assert.ok(lines.includes('    template\t<PodTemplateSpec> -required-'));
      assert.ok(lines.includes('        containers\t<[]Container> -required-'));
      assert.ok(lines.includes('          livenessProbe\t<Probe>'));
      assert.ok(lines.includes('    conditions\t<[]DeploymentCondition>'));
    });

    test(`kubectl ${v}: explain hpa --api-version=autoscaling/v1 (v2 is preferred)`, async () => {
      const v1 = await c.ok(v, ['explain', 'hpa', '--api-version=autoscaling/v1']);
      assert.match(v1, /^GROUP:      autoscaling\nKIND:       HorizontalPodAutoscaler\nVERSION:    v1\n/);
      assert.match(v1, /^DESCRIPTION:\n    configuration of a horizontal pod autoscaler\.\n/m);
      const spec = await c.ok(v, ['explain', 'hpa.spec', '--api-version=autoscaling/v1']);
      assert.ok(spec.includes('\n  targetCPUUtilizationPercentage\t<integer>\n'), spec);
      assert.ok(spec.includes('\n  maxReplicas\t<integer> -required-\n'), spec);
      const v2 = await c.ok(v, ['explain', 'hpa.spec']);
      assert.match(v2, /^VERSION:    v2$/m);
      assert.ok(v2.includes('\n  metrics\t<[]MetricSpec>\n'), v2);
    });

    test(`kubectl ${v}: explain a custom resource from its CRD schema`, async () => {
      const out = await c.ok(v, ['explain', 'crontabs']);
      assert.match(out, /^GROUP:      stable\.example\.com\nKIND:       CronTab\nVERSION:    v1\n\nDESCRIPTION:\n    CronTab runs a command on a schedule\.\n/);
      assert.ok(out.includes('\n  metadata\t<ObjectMeta>\n'), out);
      assert.ok(out.includes('\n  spec\t<Object>\n    The desired schedule.\n'), out);
      const spec = await c.ok(v, ['explain', 'ct.spec']);
      assert.ok(spec.includes('\n  cronSpec\t<string> -required-\n    When to run, in cron format.\n'), spec);
      assert.ok(spec.includes('\n  replicas\t<integer>\n    <no description>\n'), spec);
      const rec = await c.ok(v, ['explain', 'crontab', '--recursive']);
      assert.ok(rec.includes('\n    ownerReferences\t<[]OwnerReference>\n'), rec);
      // A field that does not exist.
      const bad = await c.kubectl(v, ['explain', 'crontab.spec.nope']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field "nope" does not exist/);
    });

    test(`kubectl ${v}: apply computes a strategic merge patch from the schema (a removed env var goes)`, async () => {
      const ns = 'default';
      const name = `smp-${v.replace('.', '-')}`;
      const f = await c.file(`${v}/dep.yaml`, deployment(name, ns, ['A', 'B']));
      await c.ok(v, ['apply', '-f', f]);
      await c.file(`${v}/dep.yaml`, deployment(name, ns, ['A']));
      const r = await c.kubectl(v, ['apply', '-f', f, '-v=8']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^deployment\\.apps/${name} configured$`, 'm'));
      assert.match(r.stderr, /Content-Type: application\/strategic-merge-patch\+json/);
      // The list is patched by merge key: a $patch delete directive for B, not a replacement.
      assert.match(r.stderr, /\$patch\\*":\\*"delete\\*",\\*"name\\*":\\*"B/);
      assert.equal(await c.ok(v, ['get', 'deploy', name, '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].env[*].name}']), 'A');
      assert.equal(await c.ok(v, ['get', 'deploy', name, '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}']), '80');
    });
  }
});
