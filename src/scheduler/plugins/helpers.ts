// Matching helpers shared by plugins: tolerations vs taints, node selector terms.
import type { NodeInfo, Taint } from '../types.js';

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** v1helper.Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
    case '':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  for (const t of tolerations ?? []) if (toleratesTaint(t, taint)) return true;
  return false;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[] | null;
  matchFields?: NodeSelectorRequirement[] | null;
}

function parseIntStrict(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

export function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = parseIntStrict(v!);
      const b = parseIntStrict(values[0]!);
      if (a === undefined || b === undefined) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields match; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, node.labels)) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name') return false;
    if (!requirementMatches(r, { 'metadata.name': node.name })) return false;
  }
  return true;
}

/** nodeSelectorTerms are ORed. */
export function nodeSelectorMatches(terms: NodeSelectorTerm[] | undefined | null, node: NodeInfo): boolean {
  for (const t of terms ?? []) if (termMatches(t, node)) return true;
  return false;
}

/** The pod's nodeSelector and required node affinity both match the node. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podMatchesNodeSelectorAndAffinity(spec: any, node: NodeInfo): boolean {
  const sel = spec?.nodeSelector as Record<string, string> | undefined;
  if (sel) for (const [k, v] of Object.entries(sel)) if (node.labels[k] !== v) return false;
  const req = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req) return nodeSelectorMatches(req.nodeSelectorTerms, node);
  return true;
}
