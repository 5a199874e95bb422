// Names, scope and subresources of every core/v1 resource, checked against upstream's
// OpenAPI document (the test oracle) and upstream's discovery facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { coreResources } from '../../../../src/api/core/index.js';

const swaggerPath = '/work/shared/reference/swagger.json';

test('every core resource exists in upstream OpenAPI with the same scope and subresources', (t) => {
  let swagger: { paths: Record<string, Record<string, unknown>> };
  try {
    swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
  } catch {
    return t.skip(`${swaggerPath} not available`);
  }
  for (const d of coreResources) {
    const base = d.namespaced ? `/api/v1/namespaces/{namespace}/${d.plural}` : `/api/v1/${d.plural}`;
    const item = swagger.paths[`${base}/{name}`];
    assert.ok(item, `${d.plural}: ${base}/{name}`);
    const gvk = (item.get as { 'x-kubernetes-group-version-kind'?: { kind: string } })['x-kubernetes-group-version-kind'];
    assert.equal(gvk?.kind, d.kind, d.plural);
    assert.equal(!!swagger.paths[`${base}/{name}/status`], !!d.subresources?.status, `${d.plural} status`);
    assert.equal(!!swagger.paths[`${base}/{name}/scale`], !!d.subresources?.scale, `${d.plural} scale`);
    const methods = Object.keys(item).filter((m) => ['get', 'put', 'patch', 'delete'].includes(m)).sort();
    const verbs = new Set(d.verbs ?? ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);
    const want = [verbs.has('delete') && 'delete', 'get', verbs.has('patch') && 'patch', verbs.has('update') && 'put'].filter(Boolean);
    assert.deepEqual(methods, want, `${d.plural} item verbs`);
    const collection = swagger.paths[base]!;
    assert.equal(!!collection.delete, verbs.has('deletecollection'), `${d.plural} deletecollection`);
    assert.equal(!!collection.post, verbs.has('create'), `${d.plural} create`);
  }
});

test('short names, categories and name rules are upstream discovery facts', () => {
  const by = Object.fromEntries(coreResources.map((d) => [d.plural, d]));
  const short: Record<string, string[] | undefined> = {
    namespaces: ['ns'], pods: ['po'], services: ['svc'], endpoints: ['ep'], nodes: ['no'], configmaps: ['cm'],
    secrets: undefined, serviceaccounts: ['sa'], events: ['ev'], replicationcontrollers: ['rc'], persistentvolumes: ['pv'],
    persistentvolumeclaims: ['pvc'], limitranges: ['limits'], resourcequotas: ['quota'], podtemplates: undefined, componentstatuses: ['cs'],
  };
  assert.deepEqual(Object.keys(by).sort(), Object.keys(short).sort());
  for (const [plural, names] of Object.entries(short)) assert.deepEqual(by[plural]!.shortNames, names, plural);
  const all = coreResources.filter((d) => d.categories?.includes('all')).map((d) => d.plural).sort();
  assert.deepEqual(all, ['pods', 'replicationcontrollers', 'services']);
  assert.equal(by.namespaces!.nameValidation, 'dns1123Label');
  assert.equal(by.services!.nameValidation, 'dns1035Label');
  assert.equal(by.pods!.nameValidation, 'dns1123Subdomain');
  assert.deepEqual(by.componentstatuses!.verbs, ['get', 'list']);
  assert.deepEqual(by.replicationcontrollers!.subresources?.scale, {
    specReplicasPath: 'spec.replicas',
    statusReplicasPath: 'status.replicas',
    labelSelectorPath: 'spec.selector',
  });
  for (const d of coreResources) {
    assert.equal(d.printer!.columns.length, d.printer!.cells({ metadata: { name: 'x' } }, new Date()).length, `${d.plural} cells match columns`);
  }
});
