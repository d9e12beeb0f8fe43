/**
 * The `data` of each event of a server-sent event stream (WHATWG HTML, "event stream interpretation"):
 * lines split on CR, LF or CRLF, `data:` lines joined with newlines, an event dispatched at a blank line,
 * comments and other fields skipped. Yields `{event, data}`; `event` is "message" unless named.
 */
export async function* readSseMessages(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.search(/\r\n|\r|\n/);
    while (end >= 0) {
      const line = buffer.slice(0, end);
      const width = buffer.startsWith('\r\n', end) ? 2 : 1;
      // A lone CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (buffer[end] === '\r' && end + 1 === buffer.length) break;
      buffer = buffer.slice(end + width);
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
        data = [];
        event = '';
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
      }
      end = buffer.search(/\r\n|\r|\n/);
    }
  }
}

/** The `data` of each `message` event: a JSON-RPC message of a Streamable HTTP stream. */
export async function* readSseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  for await (const { event, data } of readSseMessages(body)) if (event === 'message') yield data;
}
