import { MetaKey } from '../../../shared/modern-protocol.js';

type Message = Record<string, unknown>;

/** A `subscriptions/listen` request's filter: which change notifications its caller opted in to. */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

const LIST_FLAGS: Readonly<Record<string, keyof ListenFilter>> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

/** The filter as a caller sent it, keeping only well-formed fields. */
export function readListenFilter(value: unknown): ListenFilter {
  const filter: ListenFilter = {};
  if (typeof value !== 'object' || value === null) return filter;
  const raw = value as Record<string, unknown>;
  for (const flag of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const)
    if (raw[flag] === true) filter[flag] = true;
  if (Array.isArray(raw.resourceSubscriptions))
    filter.resourceSubscriptions = raw.resourceSubscriptions.filter(
      (u): u is string => typeof u === 'string',
    );
  return filter;
}

/**
 * One open `subscriptions/listen` stream (2026-07-28), held by the session that stands for it on the
 * main thread. Backends' change notifications reach that session as they reach any (the hub's fan-out);
 * this decides which of them the caller opted in to, and tags each with the subscription's id. Nothing
 * leaves before the acknowledgement: what arrives while the subscriptions are being set up waits.
 */
export class ListenStream {
  /** The JSON-RPC id of the listen request: the subscription's id. */
  readonly id: string | number;
  readonly filter: ListenFilter;
  #waiting: Message[] | undefined = [];

  readonly #serverInfo: unknown;

  constructor(id: string | number, filter: ListenFilter, serverInfo?: unknown) {
    this.id = id;
    this.filter = filter;
    this.#serverInfo = serverInfo;
  }

  /** The message as this stream sends it now, or undefined: not opted in to, or held until acknowledged. */
  admit(message: Message): Message | undefined {
    const method = message.method;
    if (typeof method !== 'string') return undefined;
    const flag = LIST_FLAGS[method];
    const wanted = flag ? this.filter[flag] === true : method === 'notifications/resources/updated';
    if (!wanted) return undefined;
    const tagged = this.tag(message);
    if (this.#waiting) {
      this.#waiting.push(tagged);
      return undefined;
    }
    return tagged;
  }

  /** The acknowledgement of what is honoured, then whatever waited for it. */
  acknowledge(honoured: ListenFilter): Message[] {
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    const ack = {
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: honoured },
    };
    return [this.tag(ack), ...waiting];
  }

  /** The listen request's own result, which ends the stream gracefully (the gateway closes it). */
  completion(): Message {
    return {
      jsonrpc: '2.0',
      id: this.id,
      result: {
        resultType: 'complete',
        _meta: {
          [MetaKey.SUBSCRIPTION_ID]: this.id,
          ...(this.#serverInfo ? { [MetaKey.SERVER_INFO]: this.#serverInfo } : {}),
        },
      },
    };
  }

  tag(message: Message): Message {
    const params = (message.params ?? {}) as Message;
    const meta = (params._meta ?? {}) as Message;
    return { ...message, params: { ...params, _meta: { ...meta, [MetaKey.SUBSCRIPTION_ID]: this.id } } };
  }
}
