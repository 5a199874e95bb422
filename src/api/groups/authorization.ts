// authorization.k8s.io/v1 and authentication.k8s.io/v1: review resources. They are only
// ever created, never stored: the API server answers each one from its authenticator and
// authorizer (see src/apiserver/subresources/reviews.ts).
import type { ResourceDecl } from '../types.js';

function review(group: string, kind: string, plural: string, namespaced: boolean, versions?: string[]): ResourceDecl {
  return {
    group,
    version: versions?.[0] ?? 'v1',
    ...(versions ? { versions } : {}),
    kind,
    plural,
    singular: plural.replace(/s$/, ''),
    namespaced,
    verbs: ['create'],
    nameValidation: 'none',
  };
}

export const reviewResources: ResourceDecl[] = [
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews', false),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews', false),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews', false),
];
