// TokensController (pkg/controller/serviceaccount/tokens_controller.go): Secrets of type
// kubernetes.io/service-account-token get a legacy (non-expiring) token for the ServiceAccount
// their `kubernetes.io/service-account.name` annotation names, plus `ca.crt` and `namespace`;
// the controller also records the ServiceAccount's uid in `kubernetes.io/service-account.uid`.
// A token Secret whose ServiceAccount is gone (or was re-created with another uid) is deleted.
import type { KObject } from '../api/types.js';
import { call, isConflict, isNotFound, resourcePath } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import type { Controller, ControllerContext } from './context.js';

export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_KEY = 'kubernetes.io/service-account.name';
export const SA_UID_KEY = 'kubernetes.io/service-account.uid';

export interface ServiceAccountTokenOptions {
  /** The cluster CA put into each Secret's `ca.crt`. */
  caCert?: string;
  /** Signs a legacy token for the ServiceAccount and Secret name. Without it no tokens are written. */
  issueLegacyToken?: (serviceAccount: KObject, secretName: string) => string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Which of token/ca.crt/namespace a Secret still lacks (generateTokenIfNeeded's checks). */
export function missingTokenData(secret: KObject, caCert: string | undefined): { token: boolean; ca: boolean; namespace: boolean } {
  const data = (secret.data ?? {}) as Record<string, string>;
  return {
    token: !data['token'],
    ca: !!caCert && data['ca.crt'] !== b64(caCert),
    namespace: !data['namespace'],
  };
}

/** Whether `sa` is the ServiceAccount the Secret references (name, and uid when recorded). */
export function referencesServiceAccount(secret: KObject, sa: KObject | undefined): boolean {
  if (!sa) return false;
  const ann = secret.metadata.annotations ?? {};
  if (ann[SA_NAME_KEY] !== sa.metadata.name) return false;
  const uid = ann[SA_UID_KEY];
  return !uid || uid === sa.metadata.uid;
}

export class ServiceAccountTokenController implements Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 30_000 });
  private secrets!: Informer;
  private serviceAccounts!: Informer;
  private stopped = false;

  constructor(
    readonly ctx: ControllerContext,
    private readonly opts: ServiceAccountTokenOptions = {},
  ) {}

  start(): void {
    this.secrets = this.ctx.informers.informer({ group: '', version: 'v1', plural: 'secrets', fieldSelector: `type=${SERVICE_ACCOUNT_TOKEN_TYPE}` });
    this.serviceAccounts = this.ctx.informers.informer({ group: '', version: 'v1', plural: 'serviceaccounts' });
    const onSecret = (s: KObject) => !this.stopped && this.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
    this.secrets.addHandlers({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s) });
    // A ServiceAccount that goes away (or is re-created) takes its token Secrets with it.
    const onSA = (sa: KObject) => {
      if (this.stopped) return;
      for (const s of this.secrets.list()) {
        if (s.metadata.namespace === sa.metadata.namespace && s.metadata.annotations?.[SA_NAME_KEY] === sa.metadata.name) onSecret(s);
      }
    };
    this.serviceAccounts.addHandlers({ onAdd: onSA, onDelete: onSA });
    void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
  }

  private async worker(): Promise<void> {
    await Promise.all([this.secrets.waitForSync(), this.serviceAccounts.waitForSync()]);
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (e) {
        this.ctx.log.warn('service account token sync failed', { secret: key, error: (e as Error).message });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** The ServiceAccount the Secret references: from the cache, else live (it may be brand new). */
  private async serviceAccountFor(secret: KObject): Promise<KObject | undefined> {
    const ns = secret.metadata.namespace!;
    const name = secret.metadata.annotations?.[SA_NAME_KEY];
    if (!name) return undefined;
    const cached = this.serviceAccounts.get(`${ns}/${name}`);
    if (referencesServiceAccount(secret, cached)) return cached;
    try {
      const live = (await call(this.ctx.client, 'GET', resourcePath('', 'v1', 'serviceaccounts', ns, name))) as KObject;
      return referencesServiceAccount(secret, live) ? live : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async sync(key: string): Promise<void> {
    const cached = this.secrets.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const [ns, name] = key.split('/') as [string, string];
    const path = resourcePath('', 'v1', 'secrets', ns, name);
    const sa = await this.serviceAccountFor(cached);
    if (!sa) {
      try {
        await call(this.ctx.client, 'DELETE', path, { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: cached.metadata.uid } } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
      return;
    }
    const miss = missingTokenData(cached, this.opts.caCert);
    const needsUID = cached.metadata.annotations?.[SA_UID_KEY] !== sa.metadata.uid;
    if (!miss.token && !miss.ca && !miss.namespace && !needsUID) return;
    if (miss.token && !this.opts.issueLegacyToken) return;

    let live: KObject;
    try {
      live = structuredClone((await call(this.ctx.client, 'GET', path)) as KObject);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (live.metadata.uid !== cached.metadata.uid) return;
    const now = missingTokenData(live, this.opts.caCert);
    const data = { ...((live.data ?? {}) as Record<string, string>) };
    if (now.ca) data['ca.crt'] = b64(this.opts.caCert!);
    if (now.namespace) data['namespace'] = b64(ns);
    if (now.token && this.opts.issueLegacyToken) data['token'] = b64(this.opts.issueLegacyToken(sa, name));
    live.data = data;
    live.metadata.annotations = { ...(live.metadata.annotations ?? {}), [SA_NAME_KEY]: sa.metadata.name!, [SA_UID_KEY]: sa.metadata.uid! };
    try {
      await call(this.ctx.client, 'PUT', path, { body: live });
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) return this.queue.add(key);
      throw e;
    }
  }
}
