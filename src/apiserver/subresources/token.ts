// serviceaccounts/token (pkg/registry/core/serviceaccount/storage/token.go): the TokenRequest
// API. POST a TokenRequest (authentication.k8s.io/v1) and get back a signed, bound service
// account token in status.token. Nothing is stored.
import type { FieldError, KObject } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import { ApiError, badRequest, conflict, invalid, methodNotSupported } from '../errors.js';
import { decodeBody } from '../negotiation.js';
import { timestamp } from '../registry.js';
import { serviceAccountTokensFor, type IssueRequest, type ObjectRef } from '../auth/serviceaccount.js';

/** Default and bounds of spec.expirationSeconds (SetDefaults_TokenRequestSpec, ValidateTokenRequest). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 10 * 60;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

export function registerToken(api: ApiServer): void {
  api.registerSubresource('', 'serviceaccounts', 'token', async (info, req) => {
    if (info.verb !== 'create') throw methodNotSupported({ group: '', resource: 'serviceaccounts/token' }, info.verb);
    const body = (req.bodyObject ?? decodeBody(req.body, req.headers['content-type'])) as KObject | undefined;
    const tr: KObject = body && typeof body === 'object' ? structuredClone(body) : ({ metadata: {} } as KObject);
    tr.metadata ??= {};
    const spec = (tr.spec ?? {}) as { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: BoundObjectReference | null };
    const name = info.name;
    const namespace = info.namespace;
    if (tr.metadata.name && tr.metadata.name !== name) {
      throw invalid('authentication.k8s.io', 'TokenRequest', name, [
        { type: 'FieldValueInvalid', field: 'metadata.name', badValue: tr.metadata.name, detail: 'must match the service account name if specified' },
      ]);
    }
    if (tr.metadata.namespace && tr.metadata.namespace !== namespace) {
      throw invalid('authentication.k8s.io', 'TokenRequest', name, [
        { type: 'FieldValueInvalid', field: 'metadata.namespace', badValue: tr.metadata.namespace, detail: 'must match the service account namespace if specified' },
      ]);
    }
    const get = (plural: string, ns: string, n: string) => api.registry.get(api.resources.lookup('', 'v1', plural)!.decl, ns, n);
    const sa = await get('serviceaccounts', namespace, name);

    const tokens = serviceAccountTokensFor(api);
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [...tokens.audiences];
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    const now = api.clock.now();
    const errs: FieldError[] = [];
    if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) {
      throw badRequest(`json: cannot unmarshal ${typeof expirationSeconds} into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64`);
    }
    if (expirationSeconds < MIN_EXPIRATION_SECONDS)
      errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' });
    if (expirationSeconds > MAX_EXPIRATION_SECONDS)
      errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' });
    if (errs.length) throw invalid('authentication.k8s.io', 'TokenRequest', '', errs);

    const issue: IssueRequest = { serviceAccount: sa, audiences, expirationSeconds };
    const ref = spec.boundObjectRef;
    if (ref) {
      const { group, version } = splitAPIVersion(ref.apiVersion ?? '');
      const kind = ref.kind ?? '';
      let uid: string | undefined;
      if (group === '' && kind === 'Pod') {
        const pod = await get('pods', namespace, ref.name ?? '');
        if (name !== (pod.spec?.serviceAccountName ?? 'default'))
          throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
        issue.pod = pod;
        uid = pod.metadata.uid;
        const nodeName = pod.spec?.nodeName as string | undefined;
        if (nodeName) {
          const node: ObjectRef = { name: nodeName };
          try {
            node.uid = (await get('nodes', '', nodeName)).metadata.uid;
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
          issue.podNode = node;
        }
      } else if (group === '' && kind === 'Secret') {
        const secret = await get('secrets', namespace, ref.name ?? '');
        issue.secret = secret;
        uid = secret.metadata.uid;
      } else if (group === '' && kind === 'Node') {
        const node = await get('nodes', '', ref.name ?? '');
        issue.node = node;
        uid = node.metadata.uid;
      } else {
        throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
      }
      if (ref.uid && ref.uid !== uid) {
        throw conflict(
          { group, resource: kind },
          ref.name ?? '',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
    }

    const { token, claims } = tokens.issue(issue);
    const out: KObject = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { ...tr.metadata, name, namespace, creationTimestamp: timestamp(now) },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: timestamp(new Date(claims.iat * 1000 + expirationSeconds * 1000)) },
    };
    return { status: 201, body: out };
  });
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
