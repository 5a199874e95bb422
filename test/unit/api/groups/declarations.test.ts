// Upstream's OpenAPI document is the oracle for which group/version/kind each resource
// has, its scope, and which subresources exist (a path per subresource).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { groupResources } from '../../../../src/api/groups/index.js';
import { apiVersionOf } from '../../../../src/api/types.js';

const swaggerPath = '/work/shared/reference/swagger.json';

test('every declaration matches upstream OpenAPI: kind, scope, status and scale subresources', (t) => {
  if (!existsSync(swaggerPath)) return t.skip(`${swaggerPath} not present on this machine`);
  const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8')) as { paths: Record<string, any>; definitions: Record<string, any> };
  const gvks = new Set<string>();
  for (const def of Object.values(swagger.definitions)) {
    for (const g of def['x-kubernetes-group-version-kind'] ?? []) gvks.add(`${g.group}/${g.version}/${g.kind}`);
  }
  for (const d of groupResources) {
    for (const v of d.versions ?? [d.version]) {
      const base = `/apis/${apiVersionOf(d, v)}`;
      const collection = d.namespaced ? `${base}/namespaces/{namespace}/${d.plural}` : `${base}/${d.plural}`;
      // Create-only resources (reviews) have no per-object path upstream either.
      const item = d.verbs && !d.verbs.includes('get') ? collection : `${collection}/{name}`;
      assert.ok(swagger.paths[item], `${d.plural}: no upstream path ${item}`);
      assert.ok(gvks.has(`${d.group}/${v}/${d.kind}`), `${d.plural}: kind ${d.kind} not in ${d.group}/${v}`);
      assert.equal(Boolean(d.subresources?.status), Boolean(swagger.paths[`${item}/status`]), `${d.plural}: status subresource`);
      assert.equal(Boolean(d.subresources?.scale), Boolean(swagger.paths[`${item}/scale`]), `${d.plural}: scale subresource`);
    }
  }
});

test('short names, categories and plurals users type', () => {
  const byPlural = new Map(groupResources.map((d) => [d.plural, d]));
  const expect: Record<string, { shortNames?: string[]; categories?: string[] }> = {
    deployments: { shortNames: ['deploy'], categories: ['all'] },
    replicasets: { shortNames: ['rs'], categories: ['all'] },
    daemonsets: { shortNames: ['ds'], categories: ['all'] },
    statefulsets: { shortNames: ['sts'], categories: ['all'] },
    jobs: { categories: ['all'] },
    cronjobs: { shortNames: ['cj'], categories: ['all'] },
    horizontalpodautoscalers: { shortNames: ['hpa'], categories: ['all'] },
    ingresses: { shortNames: ['ing'] },
    networkpolicies: { shortNames: ['netpol'] },
    storageclasses: { shortNames: ['sc'] },
    poddisruptionbudgets: { shortNames: ['pdb'] },
    customresourcedefinitions: { shortNames: ['crd', 'crds'], categories: ['api-extensions'] },
  };
  for (const [plural, e] of Object.entries(expect)) {
    const d = byPlural.get(plural);
    assert.ok(d, plural);
    assert.deepEqual(d.shortNames ?? [], e.shortNames ?? [], `${plural} shortNames`);
    assert.deepEqual(d.categories ?? [], e.categories ?? [], `${plural} categories`);
  }
  for (const d of groupResources) {
    if (d.verbs && !d.verbs.includes('list')) continue; // nothing to print for create-only reviews
    // kubectl get prints NAME first for everything but events.
    assert.ok(d.printer, `${d.plural} has a table printer`);
    if (d.plural !== 'events') assert.equal(d.printer.columns[0]!.name, 'Name', d.plural);
    if (d.group === 'rbac.authorization.k8s.io') assert.equal(d.nameValidation, 'pathSegment', d.plural);
    if (d.subresources?.scale) assert.deepEqual(d.subresources.scale, { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' });
  }
  const hpa = byPlural.get('horizontalpodautoscalers')!;
  assert.equal(hpa.version, 'v2');
  assert.deepEqual(hpa.versions, ['v2', 'v1']);
  assert.equal(byPlural.get('replicasets')!.fieldSelectors!['status.replicas']!({ metadata: {}, status: { replicas: 3 } }), '3');
  assert.equal(byPlural.get('jobs')!.fieldSelectors!['status.successful']!({ metadata: {}, status: {} }), '0');
});
