import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ResourceDecl } from '../../../src/api/types.js';
import { definitionName, negotiateOpenAPIV2, OPENAPI_V2_PROTOBUF_CONTENT_TYPE, openapiV2, openapiV2Protobuf, openapiV3GroupVersion, openapiV3Index } from '../../../src/apiserver/openapi.js';
import { allDecls, clusterroles, configmaps, crontabs, deployments, pods } from './fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REF = '/work/shared/reference';
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];
// Newer than v1.32 (the version kts emulates).
const NEWER_PARAMS = new Set(['shardSelector']);

function loadRef(path: string): Json | undefined {
  return existsSync(`${REF}/${path}`) ? (JSON.parse(readFileSync(`${REF}/${path}`, 'utf8')) as Json) : undefined;
}

/** QueryParamVerifierV3.HasSupport, as cli-runtime implements it. */
function supportsFieldValidation(doc: Json, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values(doc.paths as Json)) {
    const op = item.patch;
    if (!op) continue;
    const g = op['x-kubernetes-group-version-kind'];
    if (!g || g.group !== gvk.group || g.version !== gvk.version || g.kind !== gvk.kind) continue;
    // Only the operation's own parameters count, and only the first matching operation.
    return (op.parameters ?? []).some((p: Json) => p.name === 'fieldValidation' && p.in === 'query');
  }
  return false;
}

function gvPathOf(d: ResourceDecl, version: string): string {
  return d.group ? `apis/${d.group}/${version}` : `api/${version}`;
}

test('every patchable resource supports fieldValidation the way kubectl checks it, in every PATCH path', () => {
  for (const d of allDecls) {
    for (const version of d.versions ?? [d.version]) {
      const doc = openapiV3GroupVersion(allDecls, gvPathOf(d, version));
      assert.ok(doc, `${gvPathOf(d, version)} served`);
      const patches = Object.entries(doc.doc.paths as Json).filter(([, item]) => item.patch?.['x-kubernetes-group-version-kind']?.kind === d.kind);
      if ((d.verbs ?? ['patch']).includes('patch')) {
        assert.ok(patches.length > 0, `${d.plural} has PATCH paths`);
        // kubectl looks at whichever PATCH path comes first in map order: each must qualify.
        for (const [path, item] of patches) {
          assert.ok(item.patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'), path);
        }
        assert.ok(supportsFieldValidation(doc.doc, { group: d.group, version, kind: d.kind }), d.plural);
      }
      for (const verb of ['post', 'put']) {
        for (const [path, item] of Object.entries(doc.doc.paths as Json)) {
          if (item[verb]?.['x-kubernetes-action'] === verb && item[verb]['x-kubernetes-group-version-kind']?.kind === d.kind) {
            assert.ok(item[verb].parameters.some((p: Json) => p.name === 'fieldValidation'), `${verb} ${path}`);
            assert.ok(item[verb].parameters.some((p: Json) => p.name === 'fieldManager'), `${verb} ${path}`);
            assert.ok(item[verb].parameters.some((p: Json) => p.name === 'dryRun'), `${verb} ${path}`);
          }
        }
      }
    }
  }
  // The swagger 2.0 document carries the same parameters.
  const v2 = openapiV2(allDecls).doc as Json;
  const patch = v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.deepEqual(patch.parameters.filter((p: Json) => p.in === 'query').map((p: Json) => p.name), ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
});

/** (path, method) → what identifies an operation, from an upstream-shaped swagger document. */
function operations(doc: Json, keep: (path: string) => boolean) {
  const resolve = (p: Json) => (p.$ref ? doc.parameters[p.$ref.split('/').pop()] : p);
  const out = new Map<string, Json>();
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    if (!keep(path)) continue;
    const pathParams = (item.parameters ?? []).map(resolve);
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const params = [...pathParams, ...(op.parameters ?? []).map(resolve)];
      out.set(`${m.toUpperCase()} ${path}`, {
        operationId: op.operationId,
        action: op['x-kubernetes-action'],
        gvk: op['x-kubernetes-group-version-kind'],
        tags: op.tags,
        query: params.filter((p: Json) => p.in === 'query' && !NEWER_PARAMS.has(p.name)).map((p: Json) => p.name).sort(),
        pathParams: params.filter((p: Json) => p.in === 'path').map((p: Json) => p.name).sort(),
        body: params.find((p: Json) => p.in === 'body')?.schema?.$ref,
        responses: Object.fromEntries(Object.entries(op.responses as Json).map(([code, r]) => [code, r.schema?.$ref ?? r.schema?.type])),
      });
    }
  }
  return out;
}

test('paths and operations equal upstream swagger for the same resources', (t) => {
  const upstream = loadRef('swagger.json');
  if (!upstream) return t.skip(`${REF}/swagger.json not present`);
  const ours = openapiV2(allDecls).doc as Json;
  const cases: [ResourceDecl, RegExp][] = [
    [deployments, /^\/apis\/apps\/v1\/(watch\/)?(namespaces\/\{namespace\}\/)?deployments/],
    [configmaps, /^\/api\/v1\/(watch\/)?(namespaces\/\{namespace\}\/)?configmaps/],
    [clusterroles, /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(watch\/)?clusterroles/],
    // Only the pod subresources the fixture declares (no attach/portforward/proxy/resize yet).
    [pods, /^\/api\/v1\/(watch\/)?(namespaces\/\{namespace\}\/)?pods(\/\{name\}(\/(status|binding|eviction|log|exec))?)?$/],
  ];
  for (const [decl, re] of cases) {
    const theirs = operations(upstream, (p) => re.test(p));
    const mine = operations(ours, (p) => re.test(p));
    assert.deepEqual([...mine.keys()].sort(), [...theirs.keys()].sort(), decl.plural);
    for (const [key, want] of theirs) assert.deepEqual(mine.get(key), want, key);
  }
});

test('group-version documents match upstream v3 operations (apps/v1 deployments)', (t) => {
  const upstream = loadRef('openapi-v3/apis__apps__v1_openapi.json');
  if (!upstream) return t.skip('upstream apps/v1 v3 document not present');
  const ours = openapiV3GroupVersion(allDecls, 'apis/apps/v1')!.doc as Json;
  for (const path of Object.keys(upstream.paths).filter((p) => p.includes('/deployments'))) {
    for (const m of METHODS) {
      const want: Json | undefined = upstream.paths[path][m];
      if (!want) continue;
      const got = ours.paths[path]?.[m];
      assert.ok(got, `${m} ${path}`);
      assert.equal(got.operationId, want.operationId);
      assert.deepEqual(got['x-kubernetes-group-version-kind'], want['x-kubernetes-group-version-kind']);
      // The upstream file predates v1.32's sendInitialEvents/ignoreStoreRead… parameters.
      const names = (op: Json) => (op.parameters ?? []).map((p: Json) => p.name).filter((n: string) => !['sendInitialEvents', 'ignoreStoreReadErrorWithClusterBreakingPotential'].includes(n));
      assert.deepEqual(names(got), names(want), `${m} ${path}`);
    }
  }
  assert.deepEqual(ours.components.schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.equal(ours.openapi, '3.0.0');
});

test('built-in kinds offer strategic merge patch (their schemas carry patch metadata); custom resources do not', () => {
  // kubectl apply computes strategic patches from the v3 schema when the PATCH operation accepts
  // strategic merge patch; for custom resources it must use JSON merge patch (upstream refuses
  // strategic merge patch for them with 415). See the header of src/apiserver/openapi.ts.
  const doc = openapiV3GroupVersion(allDecls, 'apis/apps/v1')!.doc as Json;
  const content = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch.requestBody.content;
  assert.deepEqual(Object.keys(content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
  const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch.requestBody.content;
  assert.ok(scale['application/strategic-merge-patch+json']);
  const crd = openapiV3GroupVersion(allDecls, `apis/${crontabs.group}/${crontabs.version}`)!.doc as Json;
  for (const [path, item] of Object.entries(crd.paths as Json)) {
    if (item.patch) assert.deepEqual(Object.keys(item.patch.requestBody.content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'], path);
  }
});

test('every $ref resolves and every kind has a definition with its GVK', () => {
  const check = (doc: Json, prefix: string, defs: Json) => {
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref') {
          assert.ok(typeof x === 'string' && x.startsWith(prefix), String(x));
          assert.ok(defs[(x as string).slice(prefix.length)], `dangling ${x}`);
        } else walk(x);
      }
    };
    walk(doc);
  };
  const v2 = openapiV2(allDecls).doc as Json;
  check(v2, '#/definitions/', v2.definitions);
  for (const key of Object.keys((openapiV3Index(allDecls).doc as Json).paths)) {
    const doc = openapiV3GroupVersion(allDecls, key)!.doc as Json;
    check(doc, '#/components/schemas/', doc.components.schemas);
  }
  for (const d of allDecls) {
    for (const version of d.versions ?? [d.version]) {
      const def = v2.definitions[definitionName(d.group, version, d.kind)];
      assert.deepEqual(def['x-kubernetes-group-version-kind'], [{ group: d.group, kind: d.kind, version }]);
      // Create-only kinds (reviews) have no list kind, as upstream.
      const list = v2.definitions[definitionName(d.group, version, `${d.kind}List`)];
      if ((d.verbs ?? ['list']).includes('list')) assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group: d.group, kind: `${d.kind}List`, version }]);
      else assert.equal(list, undefined, `${d.kind}List`);
    }
  }
  assert.ok(v2.definitions['io.k8s.api.autoscaling.v1.Scale'].properties.spec);
  assert.ok(v2.definitions['io.k8s.api.policy.v1.Eviction']);
  assert.equal(definitionName('stable.example.com', 'v1', 'CronTab'), 'com.example.stable.v1.CronTab');
  assert.equal(definitionName('rbac.authorization.k8s.io', 'v1', 'Role'), 'io.k8s.api.rbac.v1.Role');
  assert.equal(definitionName('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'), 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
});

test('the v3 index points at each group version by hash; hashes follow the content', () => {
  const index = openapiV3Index(allDecls);
  const paths = (index.doc as Json).paths as Record<string, { serverRelativeURL: string }>;
  assert.ok(paths['api/v1'] && paths['apis/apps/v1'] && paths['apis/autoscaling/v1'] && paths['apis/autoscaling/v2'] && paths['apis/stable.example.com/v1beta1']);
  for (const [key, { serverRelativeURL }] of Object.entries(paths)) {
    const doc = openapiV3GroupVersion(allDecls, key)!;
    assert.equal(serverRelativeURL, `/openapi/v3/${key}?hash=${doc.hash}`);
    assert.equal(doc.hash, createHash('sha512').update(doc.body).digest('hex').toUpperCase());
    assert.match(doc.hash, /^[0-9A-F]{128}$/);
  }
  assert.equal(openapiV3GroupVersion(allDecls, 'apis/apps/v2'), undefined);

  // Cached: the same decls give the very same document objects.
  assert.equal(openapiV3Index(allDecls), index);
  assert.equal(openapiV3Index([...allDecls]), index);

  // A changed decl set changes the index and exactly the affected group versions.
  const more = [...allDecls, { ...crontabs, kind: 'Widget', plural: 'widgets', singular: 'widget', shortNames: [] }];
  const index2 = (openapiV3Index(more).doc as Json).paths;
  assert.notEqual(openapiV3Index(more).hash, index.hash);
  assert.notEqual(index2['apis/stable.example.com/v1'].serverRelativeURL, paths['apis/stable.example.com/v1']!.serverRelativeURL);
  assert.equal(index2['apis/apps/v1'].serverRelativeURL, paths['apis/apps/v1']!.serverRelativeURL);
  const fewer = allDecls.filter((d) => d !== crontabs);
  assert.equal((openapiV3Index(fewer).doc as Json).paths['apis/stable.example.com/v1'], undefined);
  assert.notEqual(openapiV2(fewer).hash, openapiV2(allDecls).hash);
});

test('read-only and create-only resources only get the operations their verbs allow', () => {
  const v2 = openapiV2(allDecls).doc as Json;
  const cs = Object.entries(v2.paths as Json).filter(([p]) => p.includes('/componentstatuses'));
  assert.deepEqual(cs.map(([p, item]) => `${p} ${METHODS.filter((m) => item[m]).join(',')}`).sort(), [
    '/api/v1/componentstatuses get',
    '/api/v1/componentstatuses/{name} get',
  ]);
  const b = Object.entries(v2.paths as Json).filter(([p]) => p.includes('/bindings'));
  assert.deepEqual(b.map(([p, item]) => `${p} ${METHODS.filter((m) => item[m]).join(',')}`), ['/api/v1/namespaces/{namespace}/bindings post']);
});

test('/openapi/v2 negotiation: client-go asks for protobuf only and must not get a 406', () => {
  assert.equal(negotiateOpenAPIV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), 'protobuf');
  assert.equal(negotiateOpenAPIV2('application/json'), 'json');
  assert.equal(negotiateOpenAPIV2('application/json, */*'), 'json');
  assert.equal(negotiateOpenAPIV2(undefined), 'json');
  assert.equal(negotiateOpenAPIV2('application/vnd.kubernetes.protobuf'), undefined);
  // Zero bytes is a valid, empty openapi_v2.Document.
  assert.equal(openapiV2Protobuf().length, 0);
  assert.doesNotMatch(OPENAPI_V2_PROTOBUF_CONTENT_TYPE, /@/);
});
