// The real kubectl (1.27–1.33) against a stub HTTPS server that serves only what this module
// produces (PKI, kubeconfig, discovery, OpenAPI) and echoes writes. It proves that kubectl finds
// its resources, asks the server to validate (fieldValidation=Strict, so it never needs the
// protobuf-only /openapi/v2), and that `apply` and `explain` work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, negotiateDiscovery } from '../../../src/apiserver/discovery.js';
import { negotiateOpenAPIV2, OPENAPI_V2_PROTOBUF_CONTENT_TYPE, openapiV2, openapiV2Protobuf, openapiV3GroupVersion, openapiV3Index } from '../../../src/apiserver/openapi.js';
import { ensurePKI } from '../../../src/apiserver/pki.js';
import { writeKubeconfig } from '../../../src/cli/kubeconfig.js';
import { allDecls } from './fixtures.js';

const BIN = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];

let dir: string;
let server: Server;
let kubeconfig: string;
const requests: { method: string; url: string; accept: string }[] = [];

function send(res: import('node:http').ServerResponse, code: number, body: unknown, contentType = 'application/json') {
  res.writeHead(code, { 'Content-Type': contentType });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

function notFound(res: import('node:http').ServerResponse, what = 'the server could not find the requested resource') {
  send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: what, reason: 'NotFound', code: 404 });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-kubectl-'));
  const pki = await ensurePKI(join(dir, 'pki'), { sans: { dns: [], ips: [] } });
  server = createServer({ cert: pki.servingCert, key: pki.servingKey, ca: pki.caCert, requestCert: true }, (req, res) => {
    const url = new URL(req.url!, 'https://x');
    const accept = req.headers.accept ?? '';
    requests.push({ method: req.method!, url: req.url!, accept });
    const p = url.pathname.replace(/\/$/, '');
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (p === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-kts.0', platform: 'linux/amd64' });
      if (p === '/api' || p === '/apis') {
        const agg = negotiateDiscovery(accept);
        if (agg) return send(res, 200, aggregatedDiscovery(allDecls, p === '/api' ? 'api' : 'apis', agg.version), agg.contentType);
        return send(res, 200, p === '/api' ? apiVersions(allDecls, '127.0.0.1:6443') : apiGroupList(allDecls));
      }
      let m = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
      if (m) {
        const list = m.length === 2 ? apiResourceList(allDecls, '', m[1]!) : apiResourceList(allDecls, m[1]!, m[2]!);
        return list ? send(res, 200, list) : notFound(res);
      }
      if ((m = /^\/apis\/([^/]+)$/.exec(p))) return apiGroup(allDecls, m[1]!) ? send(res, 200, apiGroup(allDecls, m[1]!)) : notFound(res);
      if (p === '/openapi/v2') {
        // What the API server must do: JSON, or the (empty) protobuf form; 406 otherwise.
        const form = negotiateOpenAPIV2(accept);
        if (form === 'json') return send(res, 200, openapiV2(allDecls).body);
        if (form === 'protobuf') return send(res, 200, openapiV2Protobuf(), OPENAPI_V2_PROTOBUF_CONTENT_TYPE);
        return send(res, 406, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotAcceptable', code: 406 });
      }
      if (p === '/openapi/v3') return send(res, 200, openapiV3Index(allDecls).body);
      if (p.startsWith('/openapi/v3/')) {
        const doc = openapiV3GroupVersion(allDecls, p.slice('/openapi/v3/'.length));
        return doc ? send(res, 200, doc.body) : notFound(res);
      }
      // Resources: nothing exists; writes echo the object back.
      if (req.method === 'GET') return notFound(res, 'not found');
      if (req.method === 'POST' || req.method === 'PUT') {
        const obj = JSON.parse(body);
        obj.metadata = { ...obj.metadata, uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' };
        return send(res, 201, obj);
      }
      notFound(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    caCert: pki.caCert,
    clientCert: pki.adminCert,
    clientKey: pki.adminKey,
  });
  await writeFile(
    join(dir, 'list.yaml'),
    'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n',
  );
  await writeFile(
    join(dir, 'deploy.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n',
  );
});

after(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

function kubectl(version: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(`${BIN}/kubectl.${version}`, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, `cache-${version}`), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

for (const version of VERSIONS) {
  test(`kubectl ${version}: discovery, server-side field validation, apply and explain`, async (t) => {
    if (!existsSync(`${BIN}/kubectl.${version}`)) return t.skip(`${BIN}/kubectl.${version} not installed`);
    requests.length = 0;

    const res = await kubectl(version, ['api-resources']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    assert.ok(lines.some((l) => /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/.test(l)), res.stdout);
    assert.ok(lines.some((l) => /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/.test(l)), res.stdout);
    // Aggregated discovery was negotiated: no per-group-version requests were needed.
    assert.ok(!requests.some((r) => r.url.startsWith('/apis/apps/v1')), JSON.stringify(requests.map((r) => r.url)));

    const apply = await kubectl(version, ['apply', '-f', join(dir, 'deploy.yaml')]);
    assert.equal(apply.code, 0, apply.stderr);
    assert.equal(apply.stdout.trim(), 'deployment.apps/web created');
    const post = requests.find((r) => r.method === 'POST');
    assert.ok(post, 'kubectl created the object');
    assert.match(post.url, /fieldValidation=Strict/, 'kubectl left validation to the server');

    // A List is validated client-side (kubectl never asks the server about kind List); with no
    // schema for its items kubectl skips them rather than failing.
    const list = await kubectl(version, ['create', '-f', join(dir, 'list.yaml'), '--dry-run=server', '-o', 'name']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.trim(), 'configmap/a\nconfigmap/b');

    const dry = await kubectl(version, ['create', '-f', join(dir, 'deploy.yaml'), '--dry-run=server', '-o', 'name']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.trim(), 'deployment.apps/web');

    const explain = await kubectl(version, ['explain', 'deployments']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /KIND:\s+Deployment/);
    assert.match(explain.stdout, /VERSION:\s+(apps\/)?v1/);
  });
}
