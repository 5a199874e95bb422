// EventRecorder: core/v1 Events as upstream's record package writes them. Repeats of the
// same event (same object, reason, message, source) within ten minutes update the existing
// Event's count and lastTimestamp instead of creating a new one (upstream's correlator).
import type { KObject } from '../api/types.js';
import { call, isConflict, isNotFound, type Client } from './client.js';

export interface Clock {
  now(): Date;
}

export interface EventSource {
  component: string;
  host?: string;
}

export type EventType = 'Normal' | 'Warning';

const DEDUP_WINDOW_MS = 10 * 60 * 1000;

function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(
    private readonly client: Client,
    private readonly source: EventSource,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  /** Records an event about `obj`; never throws (events are best effort, as upstream). */
  event(obj: KObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    void this.record(obj, type, reason, message, fieldPath).catch(() => {});
  }

  async record(obj: KObject, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const now = this.clock.now();
    const key = [m.uid, obj.kind, m.name, fieldPath ?? '', reason, message, this.source.component, this.source.host ?? ''].join('\x00');
    const prev = this.recent.get(key);
    if (prev && now.getTime() - prev.at < DEDUP_WINDOW_MS) {
      prev.count++;
      prev.at = now.getTime();
      try {
        await call(this.client, 'PATCH', `/api/v1/namespaces/${prev.namespace}/events/${prev.name}`, {
          contentType: 'application/merge-patch+json',
          body: { count: prev.count, lastTimestamp: ts(now) },
        });
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const name = `${m.name}.${(now.getTime() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    const involvedObject: Record<string, unknown> = {
      kind: obj.kind,
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: m.resourceVersion,
    };
    if (fieldPath) involvedObject['fieldPath'] = fieldPath;
    if (!m.namespace) delete involvedObject['namespace'];
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      firstTimestamp: ts(now),
      lastTimestamp: ts(now),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    };
    try {
      await call(this.client, 'POST', `/api/v1/namespaces/${namespace}/events`, { body: event });
      this.recent.set(key, { name, namespace, count: 1, at: now.getTime() });
      if (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
}
