import { coreResources } from './core/index.js';
import { groupResources } from './groups/index.js';
import type { ResourceDecl } from './types.js';

/** Every built-in resource kts serves. */
export const builtinResources: ResourceDecl[] = [...coreResources, ...groupResources];
