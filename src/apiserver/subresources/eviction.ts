// pods/eviction: placeholder until implemented (see issue 4).
import type { ApiServer } from '../apiserver.js';

export function registerEviction(_api: ApiServer): void {}
