import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A raw SSE connection for tests that check the wire itself (status, headers, event order). */
export interface RawSse {
  status: number;
  headers: Headers;
  events: EventSourceMessage[];
  /** SSE comment lines (keep-alives). */
  comments: string[];
  /** Resolves with the first event (already received or future) that satisfies `match`. */
  next(match: (event: EventSourceMessage) => boolean, timeoutMs?: number): Promise<EventSourceMessage>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A GET stream, or with `post` a POST whose answer is a stream (2026-07-28's subscriptions/listen). */
export async function openRawSse(
  url: string,
  headers: Record<string, string> = {},
  post?: { body: string },
): Promise<RawSse> {
  const controller = new AbortController();
  const response = await fetch(url, {
    ...(post ? { method: 'POST', body: post.body } : {}),
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const waiters: Array<{
    match: (e: EventSourceMessage) => boolean;
    resolve: (e: EventSourceMessage) => void;
  }> = [];
  const parser = createParser({
    onComment(comment) {
      comments.push(comment);
    },
    onEvent(event) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
  });
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body)
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // aborted by close() or cut by the server
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    ended,
    next(match, timeoutMs = 5000) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for an SSE event')), timeoutMs);
        waiters.push({
          match,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    close: () => controller.abort(),
  };
}
