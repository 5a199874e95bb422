// The generated protobuf schema (src/apiserver/protobuf/schema.json) against upstream's OpenAPI
// (the oracle): every field the decoder emits must be a JSON property upstream knows, so the
// proto→JSON name mapping (go-to-protobuf's field names, inline embedded structs) is right.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { KEEP_ZERO } from '../../../src/apiserver/protobuf/decode.js';
import schemaFile from '../../../src/apiserver/protobuf/schema.json' with { type: 'json' };

type FieldSpec = [number, string, string, (string | null)?, number?];
const messages = (schemaFile as unknown as { messages: Record<string, FieldSpec[]> }).messages;
const SWAGGER = '/work/shared/reference/swagger.json';

/** The JSON property names a message contributes (inline fields contribute their message's). */
function jsonNames(type: string): string[] {
  const out: string[] = [];
  for (const [, name, , typeName, flags = 0] of messages[type] ?? []) {
    if (flags & 2) out.push(...jsonNames(typeName!));
    else out.push(name);
  }
  return out;
}

test('schema covers the kinds kubectl sends', () => {
  for (const m of [
    'k8s.io.api.apps.v1.Deployment',
    'k8s.io.api.core.v1.Namespace',
    'k8s.io.api.core.v1.ConfigMap',
    'k8s.io.api.core.v1.Secret',
    'k8s.io.api.core.v1.Service',
    'k8s.io.api.batch.v1.Job',
    'k8s.io.api.batch.v1.CronJob',
    'k8s.io.api.rbac.v1.Role',
    'k8s.io.api.rbac.v1.RoleBinding',
    'k8s.io.api.core.v1.ServiceAccount',
    'k8s.io.api.core.v1.ResourceQuota',
    'k8s.io.api.policy.v1.PodDisruptionBudget',
    'k8s.io.api.networking.v1.Ingress',
    'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
    'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  ])
    assert.ok(messages[m], m);
});

test('field names match upstream OpenAPI property names', (t) => {
  if (!existsSync(SWAGGER)) return t.skip(`${SWAGGER} not present`);
  const defs = JSON.parse(readFileSync(SWAGGER, 'utf8')).definitions as Record<string, { properties?: Record<string, unknown> }>;
  // Fields newer or older than the OpenAPI document's Kubernetes version.
  const skew = new Set(['DeviceTaintSelector.deviceClassName', 'DeviceTaintSelector.selectors']);
  let compared = 0;
  const bad: string[] = [];
  for (const type of Object.keys(messages)) {
    const def = defs[type.replace(/^k8s\.io\./, 'io.k8s.')];
    if (!def?.properties) continue;
    compared++;
    for (const name of jsonNames(type)) {
      const short = `${type.slice(type.lastIndexOf('.') + 1)}.${name}`;
      if (!(name in def.properties) && !skew.has(short)) bad.push(`${type}.${name}`);
    }
  }
  assert.ok(compared > 500, `compared only ${compared} messages`);
  assert.deepEqual(bad, []);
});

test('spot checks: JSON names that differ from Go names', () => {
  const names = (type: string) => jsonNames(type);
  assert.ok(names('k8s.io.api.core.v1.PodSpec').includes('serviceAccountName'));
  assert.ok(names('k8s.io.api.core.v1.PodStatus').includes('podIP'));
  assert.ok(names('k8s.io.api.core.v1.PodStatus').includes('podIPs'));
  assert.ok(names('k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration').includes('webhooks'));
  assert.ok(names('k8s.io.api.authentication.v1.BoundObjectReference').includes('uid'));
  assert.ok(names('k8s.io.api.networking.v1.IngressClassParametersReference').includes('apiGroup'));
  // Volume embeds VolumeSource; ConfigMapKeySelector embeds LocalObjectReference.
  assert.ok(names('k8s.io.api.core.v1.Volume').includes('configMap'));
  assert.ok(names('k8s.io.api.core.v1.ConfigMapKeySelector').includes('name'));
  assert.ok(names('k8s.io.api.core.v1.Probe').includes('httpGet'));
  // A JSON name that really is capitalised.
  assert.ok(names('k8s.io.api.core.v1.DaemonEndpoint').includes('Port'));
});

test('every keep-zero field names a scalar or IntOrString field of the schema', () => {
  const unknown: string[] = [];
  for (const key of KEEP_ZERO) {
    const dot = key.lastIndexOf('.');
    const msg = key.slice(0, dot);
    const field = key.slice(dot + 1);
    const types = msg.includes('.') ? [msg] : Object.keys(messages).filter((m) => m.endsWith(`.${msg}`));
    const found = types.some((t) =>
      (messages[t] ?? []).some(([, name, kind, typeName]) => name === field && (kind !== 'message' || typeName === 'k8s.io.apimachinery.pkg.util.intstr.IntOrString')),
    );
    if (!found) unknown.push(key);
  }
  assert.deepEqual(unknown, []);
});
