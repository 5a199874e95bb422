// Resource declarations: one per resource, data rather than code paths.
// The API server's REST handlers, discovery, OpenAPI and table printing are generic
// over these; a CustomResourceDefinition will produce one at run time.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any API object, as JSON. Typed access happens inside each resource's hooks. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [k: string]: any;
}

/** field.ErrorType values, as they appear in Status causes (details.causes[].reason). */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'InternalError';

/** A validation failure on one field, rendered like upstream's field.Error. */
export interface FieldError {
  type: FieldErrorType;
  /** Path such as "spec.containers[0].image" or "metadata.labels". */
  field: string;
  /** The offending value (Invalid, NotSupported, Duplicate, NotFound). */
  badValue?: unknown;
  /** Extra explanation; for NotSupported, the list of supported values goes in `supported`. */
  detail?: string;
  /** For NotSupported: the values that would have been accepted. */
  supported?: string[];
}

/** How metadata.name is validated (upstream's ValidateNameFunc per resource). */
export type NameValidation =
  | 'dns1123Subdomain' // most resources
  | 'dns1123Label' // namespaces
  | 'dns1035Label' // services
  | 'pathSegment' // rbac objects, and anything whose name only has to be a URL path segment
  | 'none';

/** A Table column, as in meta.k8s.io/v1 TableColumnDefinition. priority 0 = default, 1 = -o wide. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  priority: number;
}

export interface Printer {
  /** Columns after nothing: the first one is NAME, as upstream does. */
  columns: TableColumn[];
  /** One cell per column, in order. `now` drives AGE-like columns. */
  cells(obj: KObject, now: Date): unknown[];
}

export interface ScaleDecl {
  /** JSON paths (dotted) inside the object. */
  specReplicasPath: string; // e.g. "spec.replicas"
  statusReplicasPath: string; // e.g. "status.replicas"
  labelSelectorPath?: string; // e.g. "status.selector" (a string selector) or derived from spec.selector
}

export type Verb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

/** What hooks may use besides the object itself: the clock, so tests can drive time. */
export interface StrategyContext {
  now(): Date;
}

/**
 * Per-resource behaviour, in the shape of upstream's RESTCreateStrategy/RESTUpdateStrategy.
 * Every hook is optional and must be pure apart from mutating `obj`.
 */
export interface Strategy {
  /** Fills defaults (SetDefaults_*), on create and update, before validation. */
  defaults?(obj: KObject): void;
  /** PrepareForCreate: e.g. reset status, set initial phase. Runs after defaults. */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** PrepareForUpdate: e.g. keep status from `old` on a main-resource update. */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Validation of a new object (metadata.name etc. are checked generically). */
  validate?(obj: KObject): FieldError[];
  /** Validation of an update (immutable fields etc.); validate() also runs on updates. */
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  /** Status subresource update: which parts of `obj` to keep (default: status only, rest from old). */
  prepareForStatusUpdate?(obj: KObject, old: KObject): void;
  validateStatusUpdate?(obj: KObject, old: KObject): FieldError[];
}

export interface ResourceDecl {
  /** API group; '' for the core group. */
  group: string;
  /** The version objects are stored in (and the preferred one). */
  version: string;
  /** Versions served, preferred first; defaults to [version]. */
  versions?: string[];
  kind: string;
  /** Defaults to kind + "List". */
  listKind?: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  /** Defaults to all verbs. Read-only resources (componentstatuses) list only get/list. */
  verbs?: Verb[];
  nameValidation?: NameValidation;
  subresources?: {
    status?: boolean;
    scale?: ScaleDecl;
    /** Served by handlers the API server registers (src/apiserver/subresources/); listed in discovery. */
    binding?: boolean;
    eviction?: boolean;
    /** pods/log, pods/exec, pods/attach, pods/portforward: proxied to the pod's kubelet. */
    log?: boolean;
    exec?: boolean;
    attach?: boolean;
    portforward?: boolean;
    /** nodes/proxy: GET proxied to the node's kubelet (stats, metrics). */
    proxy?: boolean;
    finalize?: boolean;
    /** serviceaccounts/token: the TokenRequest API. */
    token?: boolean;
  };
  /** A deprecation warning sent (as a Warning header) with every response for this resource. */
  deprecationWarning?: string;
  /** PUT of a missing object creates it (upstream's AllowCreateOnUpdate: leases, events, endpoints, rbac …). */
  allowCreateOnUpdate?: boolean;
  /** PUT must carry metadata.resourceVersion (upstream's AllowUnconditionalUpdate = false). */
  requireResourceVersionOnUpdate?: boolean;
  /** Keep a status sent on create (nodes register with theirs); by default it is reset. */
  keepStatusOnCreate?: boolean;
  /**
   * metadata.generation starts at 1 and is bumped when anything but metadata and status changes.
   * Defaults to true for resources with a status subresource.
   */
  generation?: boolean;
  /** Fields usable in fieldSelector beyond metadata.name and metadata.namespace. */
  fieldSelectors?: Record<string, (obj: KObject) => string | undefined>;
  printer?: Printer;
  strategy?: Strategy;
  /**
   * The OpenAPI v3 schema of each served version's objects, by version (custom resources: their
   * CRD's openAPIV3Schema). Built-in kinds leave it unset: their schemas are generated.
   */
  openAPISchemas?: Record<string, Record<string, unknown>>;
  /**
   * Converts an object between served versions (the stored one is `version`).
   * Only needed when versions has more than one entry and the schemas differ.
   */
  convert?(obj: KObject, toVersion: string): KObject;
  /**
   * Deletion beyond finalizers: namespaces stay while spec.finalizers is non-empty and
   * show phase Terminating meanwhile.
   */
  deletion?: {
    /** True while something other than metadata.finalizers holds the object. */
    blocked?(obj: KObject): boolean;
    /** Called on the object when its deletion starts but cannot finish yet. */
    markPending?(obj: KObject): void;
  };
  /**
   * Objects of this resource live at another resource's keys, in that resource's schema
   * (events.k8s.io/v1 events are stored as core/v1 events, as upstream stores them).
   * The other resource's strategy applies to writes; this one's printer and field
   * selectors see objects in this resource's shape (fromStored).
   */
  storedAs?: {
    group: string;
    version: string;
    plural: string;
    toStored(obj: KObject): KObject;
    fromStored(obj: KObject): KObject;
  };
  /** Pods: objects with a nonzero grace period are marked for deletion rather than removed at once. */
  gracefulDeletion?(obj: KObject, requestedSeconds: number | undefined): number;
}

export function apiVersionOf(decl: Pick<ResourceDecl, 'group'>, version: string): string {
  return decl.group ? `${decl.group}/${version}` : version;
}
