// Review resources answered by the API server itself, never stored: who am I
// (SelfSubjectReview), may I (SelfSubjectAccessReview, SelfSubjectRulesReview), may they
// (SubjectAccessReview, LocalSubjectAccessReview), whose token is this (TokenReview).
import type { KObject } from '../../api/types.js';
import type { ApiServer } from '../apiserver.js';
import type { UserInfo } from '../admission/index.js';
import { badRequest } from '../errors.js';
import { serviceAccountTokensFor } from '../auth/serviceaccount.js';

/** The answer of kts' authorizer: every authenticated user may do everything (no RBAC yet). */
export function authorized(user: Pick<UserInfo, 'username' | 'groups'>): boolean {
  return user.username !== 'system:anonymous' && user.username !== '' && !(user.groups ?? []).includes('system:unauthenticated');
}

function echo(obj: KObject, status: Record<string, unknown>): KObject {
  return { ...obj, metadata: { ...(obj.metadata ?? {}), creationTimestamp: null as unknown as string }, status };
}

export function registerReviews(api: ApiServer): void {
  api.registerCreateHandler('authentication.k8s.io', 'selfsubjectreviews', async (obj, user) =>
    echo(obj, { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } }),
  );
  // pkg/registry/authentication/tokenreview: authenticates spec.token as a bearer token would be,
  // for spec.audiences (default: the API server's audiences).
  api.registerCreateHandler('authentication.k8s.io', 'tokenreviews', async (obj) => {
    if (!obj.spec?.token) throw badRequest('token is required for TokenReview in authentication');
    const tokens = serviceAccountTokensFor(api);
    const audiences: string[] = Array.isArray(obj.spec.audiences) && obj.spec.audiences.length ? obj.spec.audiences.map(String) : tokens.audiences;
    const result = await tokens.authenticate(String(obj.spec.token), audiences);
    if (!result) return echo(obj, { user: {}, error: 'invalid bearer token' });
    if (!result.ok) return echo(obj, { user: {}, error: `[invalid bearer token, ${result.error}]` });
    const u = result.user;
    return echo(obj, {
      authenticated: true,
      user: { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}) },
      audiences: result.audiences,
    });
  });
  api.registerCreateHandler('authorization.k8s.io', 'selfsubjectaccessreviews', async (obj, user) => {
    const spec = obj.spec ?? {};
    if (!spec.resourceAttributes && !spec.nonResourceAttributes)
      throw badRequest('spec: Invalid value: ...: exactly one of nonResourceAttributes or resourceAttributes must be specified');
    const allowed = authorized(user);
    return echo(obj, allowed ? { allowed: true } : { allowed: false, reason: 'anonymous requests are not authorized' });
  });
  api.registerCreateHandler('authorization.k8s.io', 'selfsubjectrulesreviews', async (obj, user) => {
    const all = authorized(user);
    return echo(obj, {
      resourceRules: all ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] : [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }],
      nonResourceRules: all ? [{ verbs: ['*'], nonResourceURLs: ['*'] }] : [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }],
      incomplete: false,
    });
  });
  const subjectReview = async (obj: KObject) => {
    const spec = obj.spec ?? {};
    if (!spec.user && !(spec.groups ?? []).length) throw badRequest('spec.user: Invalid value: "": at least one of user or group must be specified');
    const allowed = authorized({ username: spec.user ?? '', groups: spec.groups ?? [] });
    return echo(obj, allowed ? { allowed: true } : { allowed: false });
  };
  api.registerCreateHandler('authorization.k8s.io', 'subjectaccessreviews', subjectReview);
  api.registerCreateHandler('authorization.k8s.io', 'localsubjectaccessreviews', subjectReview);
}
