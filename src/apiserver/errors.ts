// metav1.Status errors with upstream's reasons, codes and messages
// (k8s.io/apimachinery/pkg/api/errors). kubectl prints `message`; scripts read `reason`.
import type { FieldError } from '../api/types.js';
import { fieldErrorBody, fieldErrorMessage } from '../api/validation/field.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Identifies a resource in messages: "pods", "deployments.apps". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    /** Extra response headers (Retry-After, Warning …). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

export function successStatus(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

export const notFound = (gr: GroupResource, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const alreadyExists = (gr: GroupResource, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const conflict = (gr: GroupResource, name: string, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid: `Pod "x" is invalid: [a: Required value, b: …]`. `kind` is the Kind (e.g. "Pod"). */
export function invalid(group: string, kind: string, name: string, errs: FieldError[]): ApiError {
  const msgs = errs.map(fieldErrorMessage);
  const joined = msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${joined}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

export const badRequest = (message: string, causes?: StatusCause[]) =>
  new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);

export const forbidden = (gr: GroupResource, name: string, why: string, causes?: StatusCause[]) =>
  new ApiError(
    403,
    'Forbidden',
    `${qualifiedResource(gr)}${name ? ` "${name}"` : ''} is forbidden: ${why}`,
    { ...(name ? { name } : {}), ...(gr.group ? { group: gr.group } : {}), kind: gr.resource, ...(causes ? { causes } : {}) },
  );

export const methodNotSupported = (gr: GroupResource, action: string) =>
  new ApiError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`, {
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const resourceExpired = (message: string) => new ApiError(410, 'Expired', message);

export const tooLarge = (limit: number) =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const unsupportedMediaType = (contentType: string, accepted: string[]) =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnsupportedMediaType', message: contentType }] },
  );

export const notAcceptable = (accepted: string[]) =>
  new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);

export const internalError = (err: unknown) =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, {
    causes: [{ message: err instanceof Error ? err.message : String(err) }],
  });

export const serviceUnavailable = (message: string) => new ApiError(503, 'ServiceUnavailable', message);

export const timeout = (message: string, retryAfterSeconds = 1) =>
  new ApiError(504, 'Timeout', message, { retryAfterSeconds });

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const tooManyRequests = (message: string, retryAfterSeconds = 1) =>
  new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
