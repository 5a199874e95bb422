// Applies a PATCH body of any supported type to the current object (in the served version).
import type { KObject } from '../../api/types.js';
import { applyJsonPatch } from '../patch/jsonpatch.js';
import { applyMergePatch } from '../patch/mergepatch.js';
import { applyStrategicMergePatch } from '../patch/strategic.js';
import { schemaFor } from '../patch/patchmeta.js';
import { PatchError } from '../patch/errors.js';
import type { ServedResource } from '../resources.js';
import { ApiError, badRequest, unsupportedMediaType } from '../errors.js';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export function applyPatch(served: ServedResource, contentType: string, current: KObject, patch: unknown): unknown {
  const { decl, version } = served;
  try {
    switch (contentType) {
      case 'application/json-patch+json':
        return applyJsonPatch(current, patch);
      case 'application/merge-patch+json':
        return applyMergePatch(current, patch);
      case 'application/strategic-merge-patch+json': {
        const schema = schemaFor(decl.group, version, decl.kind);
        if (!schema) throw unsupportedMediaType(contentType, PATCH_TYPES.filter((t) => t !== contentType));
        return applyStrategicMergePatch(current, patch, schema);
      }
      case 'application/apply-patch+yaml':
        // Server-side apply is done by fieldmanager/ (handlers/resource.ts patchObject); the scale subresource does not take it.
        throw unsupportedMediaType(contentType, PATCH_TYPES.filter((t) => t !== contentType));
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e instanceof PatchError) {
      // Each patch error knows the code upstream answers with (400 malformed, 422 not applicable).
      if (e.status === 400) throw badRequest(e.message);
      if (e.status === 422) throw new ApiError(422, 'Invalid', e.message, {});
      throw new ApiError(e.status, 'InternalError', e.message, {});
    }
    throw badRequest(`the server rejected our request due to an error in our request: ${(e as Error).message}`);
  }
  throw unsupportedMediaType(contentType, PATCH_TYPES);
}
