import type { ResourceDecl } from '../types.js';

/** core/v1 resources. */
export const coreResources: ResourceDecl[] = [];
