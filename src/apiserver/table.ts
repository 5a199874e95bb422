// Server-side printing: meta.k8s.io/v1 Table responses from each resource's printer,
// or upstream's default NAME / CREATED AT columns for resources without one.
import type { KObject, ResourceDecl, TableColumn } from '../api/types.js';
import { nameColumn } from '../api/printers/util.js';

const createdAtColumn: TableColumn = {
  name: 'Created At',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function tableColumns(decl: ResourceDecl): TableColumn[] {
  return decl.printer ? decl.printer.columns : [nameColumn, createdAtColumn];
}

export function tableRow(decl: ResourceDecl, obj: KObject, now: Date, include: IncludeObject, served: KObject = obj) {
  let cells: unknown[];
  try {
    cells = decl.printer ? decl.printer.cells(obj, now) : [obj.metadata.name, obj.metadata.creationTimestamp];
  } catch {
    // A printer must never fail a list; show what we can.
    cells = tableColumns(decl).map((c, i) => (i === 0 ? obj.metadata.name : c.type === 'string' ? '<unknown>' : null));
  }
  const row: Record<string, unknown> = { cells };
  if (include === 'Object') row['object'] = served;
  else if (include === 'Metadata') row['object'] = partialMetadata(served);
  return row;
}

export function partialMetadata(obj: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  decl: ResourceDecl,
  objs: { stored: KObject; served: KObject }[],
  now: Date,
  include: IncludeObject,
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  withColumns = true,
) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? tableColumns(decl) : null,
    rows: objs.map((o) => tableRow(decl, o.stored, now, include, o.served)),
  };
}
