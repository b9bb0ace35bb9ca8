import type { Logger } from '../log/logger.ts';
import { applyWatchEvent, objectKey, resourceVersionOf } from './informer-event.ts';
import type { KubeRestClient } from './kube-rest-client.ts';
import { apiErrorMessage, ResponseTooLargeError } from './kube-rest-client.ts';
import { ListItemSplitter } from './list-item-splitter.ts';

/** The two calls an informer makes (KubeRestClient; a fake in unit tests). */
export type WatchClient = Pick<KubeRestClient, 'stream' | 'watch'>;

export interface InformerOptions<T> {
  /** For logs and metrics: "pods", "network-attachment-definitions", "networks". */
  resource: string;
  /** Collection path, e.g. /api/v1/pods (all namespaces). */
  path: string;
  /** Extra query parameters for list and watch, e.g. { fieldSelector: 'spec.nodeName=n1' }. */
  query?: Record<string, string>;
  transform(obj: Record<string, unknown>): T;
  /** A 404 on the first list (the CRD is not installed) disables the informer instead of retrying. */
  optional?: boolean;
  /**
   * A 403 on the first list disables it too, with a warning (an optional feature whose RBAC the
   * administrator did not grant must not keep the daemon unready).
   */
  optionalWhenForbidden?: boolean;
  log: Logger;
  pageSize?: number;
  /**
   * Strings of listed objects longer than this (bytes as sent) are never held or parsed: the
   * transform sees ELIDED_STRING_PREFIX + the length instead (see ListItemSplitter).
   */
  maxStringBytes?: number;
  /** Server-side watch timeout; the client gives up `silenceSlackMs` later if the stream went silent. */
  watchTimeoutSeconds?: number;
  /** How long past the server-side timeout a silent watch is kept open. Default 30 s. */
  silenceSlackMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /**
   * A watch that the server ends sooner than this with no event counts as an error for the
   * backoff (client-go's reflector does the same: "very short watch"), so a server that answers
   * 200 and closes at once is not re-watched in a hot loop. Default 1000 ms.
   */
  shortWatchMs?: number;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  now?(): number;
}

/** One object put into an informer's store, or removed from it (Informer.subscribe). */
export interface InformerChange<T> {
  /** `namespace/name`. */
  key: string;
  value: T;
  deleted: boolean;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A list+watch cache of one resource (client-go's reflector, reduced): list in pages, then watch
 * from the list's resourceVersion; re-watch when the server ends a watch, re-list on 410 Gone,
 * back off exponentially on errors. The store is swapped whole after each list, so readers keep
 * the previous view while a re-list runs.
 */
export class Informer<T> {
  private store = new Map<string, T>();
  private rv: string | undefined;
  private syncedFlag = false;
  private disabledFlag = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly listeners: ((change: InformerChange<T>) => void)[] = [];

  constructor(
    private readonly client: WatchClient,
    private readonly opts: InformerOptions<T>,
  ) {}

  get resource(): string {
    return this.opts.resource;
  }
  /** True once the first list completed (or the informer was disabled: nothing to wait for). */
  get synced(): boolean {
    return this.syncedFlag;
  }
  /** True when the resource does not exist on this API server (optional informers only). */
  get disabled(): boolean {
    return this.disabledFlag;
  }
  get size(): number {
    return this.store.size;
  }
  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }
  /** Every cached object (of the current list and the watch since). */
  values(): IterableIterator<T> {
    return this.store.values();
  }

  /**
   * Calls `listener` for every object a list or watch event puts into the store, and for every
   * one a DELETED event removes (a re-list reports every object again, not the ones it dropped).
   * A listener that throws is logged; the informer goes on.
   */
  subscribe(listener: (change: InformerChange<T>) => void): void {
    this.listeners.push(listener);
  }

  private notify(change: InformerChange<T>): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.opts.log.warn(
          { resource: this.opts.resource, err: err instanceof Error ? err.message : String(err) },
          'informer listener failed',
        );
      }
    }
  }

  /** Resolves when synced (or disabled); never rejects. */
  whenSynced(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Runs until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const sleep = this.opts.sleep ?? abortableSleep;
    const initial = this.opts.backoffInitialMs ?? 500;
    let delay = initial;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list(signal);
          needList = false;
        }
        const outcome = await this.watch(signal);
        delay = initial;
        if (outcome === 'gone') needList = true;
        continue;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof HttpStatusError && err.status === 404 && this.opts.optional && !this.syncedFlag) {
          this.opts.log.info(
            { resource: this.opts.resource },
            'resource not served by the API server; informer disabled',
          );
          this.disabledFlag = true;
          this.markSynced();
          return;
        }
        if (
          err instanceof HttpStatusError &&
          err.status === 403 &&
          this.opts.optionalWhenForbidden &&
          !this.syncedFlag
        ) {
          this.opts.log.warn(
            { resource: this.opts.resource, err: err.message },
            'not allowed to list this resource (RBAC); informer disabled',
          );
          this.disabledFlag = true;
          this.markSynced();
          return;
        }
        if (err instanceof HttpStatusError && err.status === 410) needList = true;
        this.opts.log.warn(
          {
            resource: this.opts.resource,
            err: err instanceof Error ? err.message : String(err),
            retryInMs: delay,
          },
          'informer error; retrying',
        );
        await sleep(delay * (0.8 + Math.random() * 0.4), signal).catch(() => undefined);
        delay = Math.min(delay * 2, this.opts.backoffMaxMs ?? 30_000);
      }
    }
  }

  private url(params: Record<string, string>): string {
    const q = new URLSearchParams({ ...this.opts.query, ...params });
    return `${this.opts.path}?${q.toString()}`;
  }

  /**
   * Lists in pages of `pageSize` (limit/continue), each page parsed item by item as it arrives
   * (ListItemSplitter): the peak is one item, not one page, however large a tenant made them.
   * A page over the client's bound is asked for again with half the limit (a continue token
   * holds for any limit), so large objects cost round trips rather than a list that never ends.
   */
  private async list(signal: AbortSignal): Promise<void> {
    const next = new Map<string, T>();
    let cont = '';
    let rv: string | undefined;
    let limit = this.opts.pageSize ?? 100;
    for (;;) {
      let errorText = '';
      const splitter = new ListItemSplitter((item) => {
        if (typeof item !== 'object' || item === null) return;
        const key = objectKey(item as Record<string, unknown>);
        if (key !== undefined) next.set(key, this.opts.transform(item as Record<string, unknown>));
      }, this.opts.maxStringBytes);
      let status: number;
      try {
        status = await this.client.stream(
          this.url({ limit: String(limit), ...(cont ? { continue: cont } : {}) }),
          (chunk, code) => {
            if (code === 200) splitter.push(chunk);
            else if (errorText.length < 64 * 1024) errorText += chunk.toString('utf8');
          },
          signal,
        );
      } catch (err) {
        if (!(err instanceof ResponseTooLargeError) || limit === 1) throw err;
        limit = Math.ceil(limit / 2);
        this.opts.log.warn({ resource: this.opts.resource, limit }, 'list page too large; asking again');
        continue;
      }
      if (status !== 200)
        throw new HttpStatusError(
          status,
          `list ${this.opts.resource}: ${apiErrorMessage({ status, body: errorText })}`,
        );
      const body = splitter.end() as { metadata?: Record<string, unknown> };
      rv = resourceVersionOf(body as Record<string, unknown>) ?? rv;
      cont = typeof body.metadata?.['continue'] === 'string' ? body.metadata['continue'] : '';
      if (cont === '') break;
    }
    this.store = next;
    this.rv = rv;
    if (this.listeners.length > 0)
      for (const [key, value] of next) this.notify({ key, value, deleted: false });
    this.opts.log.debug({ resource: this.opts.resource, items: next.size, resourceVersion: rv }, 'listed');
    this.markSynced();
  }

  /** One watch stream; 'gone' when the resourceVersion expired. */
  private async watch(signal: AbortSignal): Promise<'ended' | 'gone'> {
    const timeout = this.opts.watchTimeoutSeconds ?? 300;
    const silent = AbortSignal.timeout(timeout * 1000 + (this.opts.silenceSlackMs ?? 30_000));
    const both = AbortSignal.any([signal, silent]);
    let gone = false;
    let failure: string | undefined;
    let events = 0;
    const now = this.opts.now ?? Date.now;
    const startedAt = now();
    const params: Record<string, string> = {
      watch: '1',
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeout),
    };
    if (this.rv) params['resourceVersion'] = this.rv;
    let status: number;
    try {
      status = await this.client.watch(
        this.url(params),
        (line) => {
          if (gone) return;
          events++;
          const out = applyWatchEvent(this.store, line, this.opts.transform);
          if (out.kind === 'applied' || out.kind === 'bookmark') this.rv = out.resourceVersion ?? this.rv;
          if (out.kind === 'applied' && out.value !== undefined)
            this.notify({ key: out.key, value: out.value, deleted: out.deleted });
          else if (out.kind === 'gone') gone = true;
          else if (out.kind === 'error') failure = out.message;
        },
        both,
      );
    } catch (err) {
      // The silence watchdog fired: start a new watch from where we are.
      if (silent.aborted && !signal.aborted) return 'ended';
      throw err;
    }
    if (gone) return 'gone';
    if (status === 410) return 'gone';
    if (status !== 200) throw new HttpStatusError(status, `watch ${this.opts.resource}: HTTP ${status}`);
    if (failure) throw new Error(`watch ${this.opts.resource}: ${failure}`);
    const lasted = now() - startedAt;
    if (events === 0 && lasted < (this.opts.shortWatchMs ?? 1000))
      throw new Error(
        `watch ${this.opts.resource}: the server ended the watch after ${lasted} ms with no event`,
      );
    return 'ended';
  }

  private markSynced(): void {
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
