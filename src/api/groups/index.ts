import type { ResourceDecl } from '../types.js';

/** Resources of the named API groups (apps, batch, networking.k8s.io, …). */
export const groupResources: ResourceDecl[] = [];
