// Content negotiation: which representation a client asked for (Accept) and how the
// request body is encoded (Content-Type).
import YAML from 'yaml';
import { badRequest, notAcceptable } from './errors.js';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './protobuf/decode.js';

export type OutputKind = 'json' | 'yaml' | 'table' | 'partialMetadata' | 'partialMetadataList';

export interface MediaType {
  type: string; // e.g. application/json
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [t, ...ps] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of ps) {
        const i = p.indexOf('=');
        if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"|"$/g, '');
      }
      return { type: (t ?? '').toLowerCase(), params };
    })
    .filter((m) => m.type);
}

export const JSON_TYPE = 'application/json';
export const YAML_TYPE = 'application/yaml';

/** Picks the output form for a resource response; 406 when nothing we serve is acceptable. */
export function negotiateOutput(accept: string | undefined): OutputKind {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return 'json';
  for (const m of types) {
    if (m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*') {
      const as = m.params['as'];
      if (!as) return 'json';
      if (m.params['g'] === 'meta.k8s.io' && (m.params['v'] === 'v1' || m.params['v'] === 'v1beta1')) {
        if (as === 'Table') return 'table';
        if (as === 'PartialObjectMetadata') return 'partialMetadata';
        if (as === 'PartialObjectMetadataList') return 'partialMetadataList';
      }
      continue;
    }
    if (m.type === 'application/yaml') return 'yaml';
  }
  throw notAcceptable([
    'application/json',
    'application/yaml',
    'application/json;as=Table;v=v1;g=meta.k8s.io',
    'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io',
  ]);
}

/** Decodes a request body (JSON, YAML or Kubernetes protobuf) into a value; 400 with a pointed message when malformed. */
export function decodeBody(body: Buffer | undefined, contentType: string | undefined): unknown {
  if (!body || body.length === 0) throw badRequest('the body of the request was empty');
  const t = parseMediaTypes(contentType)[0]?.type ?? 'application/json';
  if (t === PROTOBUF_CONTENT_TYPE) return decodeProtobufObject(body);
  const text = body.toString('utf8');
  if (t === 'application/yaml' || t === 'application/apply-patch+yaml' || t.endsWith('+yaml')) {
    try {
      const doc = YAML.parseDocument(text, { uniqueKeys: false, version: '1.1' });
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS();
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(describeJSONError(text, e as Error));
  }
}

/** "… at line L, column C" like encoding/json's syntax errors carry an offset. */
function describeJSONError(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    return `couldn't get version/kind; json parse error: ${e.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${col}`;
  }
  return `couldn't get version/kind; json parse error: ${e.message}`;
}
