import { CancelledError, ConnectionClosedError, JsonRpcError } from '../../../shared/errors.js';
import { isObject, type JsonRpcNotification, RpcErrorCode } from '../../../shared/json-rpc.js';
import type { Logger } from '../../../shared/logger.js';
import { MetaKey } from '../../../shared/modern-protocol.js';
import type { McpClient } from '../../mcp-client.js';

type Params = Record<string, unknown>;

/** How long a backend has to acknowledge a `subscriptions/listen`. */
const ACK_TIMEOUT_MS = 10_000;
/** Pause before listening again when a backend ended the stream itself. */
const RELISTEN_DELAY_MS = 1_000;

/** The subscription id a backend notification carries, if it came on a listen stream. */
export function subscriptionIdOf(message: JsonRpcNotification): unknown {
  const meta = message.params?._meta;
  return isObject(meta) ? meta[MetaKey.SUBSCRIPTION_ID] : undefined;
}

/**
 * The gateway's own `subscriptions/listen` on one 2026-07-28 backend process, which is how such a backend
 * tells of list changes and resource updates (it has no other channel for them). One stream per process,
 * opted in to every list change the backend offers and to the resource URIs some client subscribed to
 * (reference-counted by the caller). A change of URIs opens a new stream and, once the backend has
 * acknowledged it, cancels the old one; only the current stream's notifications are passed on, so an
 * update seen on both during the switch is passed on once.
 */
export class BackendListen {
  readonly #client: McpClient;
  readonly #deliver: (message: JsonRpcNotification) => void;
  readonly #logger: Logger;
  /** URIs clients want updates of. */
  readonly #uris = new Set<string>();
  /** Listens sent and not yet acknowledged, by id. */
  readonly #acks = new Map<number, (filter: Params) => void>();
  #current: { id: number; cancel: (error: Error) => void } | undefined;
  #honoured = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #next: Promise<Set<string>> | undefined;
  #closed = false;

  constructor(client: McpClient, deliver: (message: JsonRpcNotification) => void, logger: Logger) {
    this.#client = client;
    this.#deliver = deliver;
    this.#logger = logger;
    client.onNotification((message) => this.#onNotification(message));
  }

  /** Starts listening when the backend offers anything to listen for. */
  start(): void {
    if (Object.keys(this.#flags()).length > 0) this.#syncQuietly();
  }

  /** Adds a URI to the stream; rejects when the backend did not take it. */
  async add(uri: string): Promise<void> {
    this.#uris.add(uri);
    const honoured = await this.#sync();
    if (!honoured.has(uri)) {
      this.#uris.delete(uri);
      throw new JsonRpcError(
        RpcErrorCode.INVALID_PARAMS,
        `The server did not accept a subscription to ${uri}.`,
      );
    }
  }

  remove(uri: string): void {
    if (this.#uris.delete(uri)) this.#syncQuietly();
  }

  close(): void {
    this.#closed = true;
    this.#acks.clear();
  }

  #flags(): Params {
    const caps = this.#client.serverCapabilities;
    const flags: Params = {};
    if (isObject(caps.tools) && caps.tools.listChanged) flags.toolsListChanged = true;
    if (isObject(caps.prompts) && caps.prompts.listChanged) flags.promptsListChanged = true;
    if (isObject(caps.resources) && caps.resources.listChanged) flags.resourcesListChanged = true;
    return flags;
  }

  #syncQuietly(): void {
    this.#sync().catch((error: unknown) => {
      if (!this.#closed) this.#logger.warn({ err: error }, 'could not listen to the backend for changes');
    });
  }

  /** Calls made in the same turn share one new stream; a stream is opened only after the last one. */
  #sync(): Promise<Set<string>> {
    if (!this.#next) {
      const next = this.#chain.then(() => {
        this.#next = undefined;
        return this.#listenNow();
      });
      this.#next = next;
      this.#chain = next.catch(() => {});
    }
    return this.#next;
  }

  async #listenNow(): Promise<Set<string>> {
    if (this.#closed) throw new ConnectionClosedError('The backend connection is closed.');
    const uris = [...this.#uris];
    let id = 0;
    let cancel: (error: Error) => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    const acknowledged = new Promise<Params>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new JsonRpcError(
              RpcErrorCode.REQUEST_TIMEOUT,
              'The backend did not acknowledge subscriptions/listen.',
            ),
          ),
        ACK_TIMEOUT_MS,
      );
      timer.unref();
      const ended = this.#client.request(
        'subscriptions/listen',
        { notifications: { ...this.#flags(), ...(uris.length > 0 ? { resourceSubscriptions: uris } : {}) } },
        {
          background: true,
          inputRequired: 'return',
          onId: (sent) => {
            id = sent;
            this.#acks.set(sent, resolve);
          },
          onCancelHandle: (handle) => {
            cancel = handle;
          },
        },
      );
      ended.then(
        () => this.#ended(id, undefined),
        (error: unknown) => this.#ended(id, error),
      );
      ended.then(
        () =>
          reject(
            new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The backend ended the listen stream at once.'),
          ),
        reject,
      );
    }).finally(() => {
      clearTimeout(timer);
      this.#acks.delete(id);
    });
    let filter: Params;
    try {
      filter = await acknowledged;
    } catch (error) {
      cancel(new CancelledError('No acknowledgement.'));
      throw error;
    }
    const previous = this.#current;
    this.#current = { id, cancel };
    previous?.cancel(new CancelledError('Replaced by a new listen stream.'));
    const accepted = Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions : [];
    this.#honoured = new Set(accepted.filter((uri): uri is string => typeof uri === 'string'));
    return this.#honoured;
  }

  /** A stream ended: when it was the current one and not by our hand, listen again shortly. */
  #ended(id: number, error: unknown): void {
    if (error instanceof ConnectionClosedError) this.close();
    if (this.#current?.id !== id) return;
    this.#current = undefined;
    if (this.#closed) return;
    this.#logger.debug({ err: error }, 'the backend ended its listen stream; listening again');
    setTimeout(() => {
      if (!this.#closed && !this.#current) this.#syncQuietly();
    }, RELISTEN_DELAY_MS).unref();
  }

  #onNotification(message: JsonRpcNotification): void {
    const subscription = subscriptionIdOf(message);
    if (message.method === 'notifications/subscriptions/acknowledged') {
      if (typeof subscription === 'number') {
        const notifications = message.params?.notifications;
        this.#acks.get(subscription)?.(isObject(notifications) ? notifications : {});
      }
      return;
    }
    if (message.method === 'notifications/cancelled') {
      // On stdio a server cancels only to end a listen stream it will no longer serve.
      if (message.params?.requestId === this.#current?.id && this.#current)
        this.#current.cancel(new CancelledError('The backend ended the listen stream.'));
      return;
    }
    if (subscription === undefined || subscription !== this.#current?.id) return;
    const { [MetaKey.SUBSCRIPTION_ID]: _id, ...meta } = (message.params?._meta ?? {}) as Params;
    const { _meta: _dropped, ...params } = message.params ?? {};
    this.#deliver({
      ...message,
      params: Object.keys(meta).length > 0 ? { ...params, _meta: meta } : params,
    });
  }
}
