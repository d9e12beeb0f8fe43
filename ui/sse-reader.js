// @ts-check
/**
 * Reads server-sent events from a fetch() response body. EventSource cannot send an Authorization
 * header, and the gateway takes its token only from that header (never from the URL, where it would
 * land in logs), so the page reads the stream itself.
 *
 * @param {ReadableStream<Uint8Array>} body
 * @param {(event: { event: string, data: string, id: string | undefined }) => void | boolean} onEvent
 *   return true to stop reading
 */
export async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  /** @type {string[]} */
  let data = [];
  /** @type {string | undefined} */
  let id;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let lineEnd = nextLineEnd(buffer);
      while (lineEnd !== -1) {
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(
          buffer[lineEnd] === '\r' && buffer[lineEnd + 1] === '\n' ? lineEnd + 2 : lineEnd + 1,
        );
        if (line === '') {
          if (data.length > 0 && onEvent({ event: event || 'message', data: data.join('\n'), id })) return;
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
        }
        lineEnd = nextLineEnd(buffer);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** @param {string} text */
function nextLineEnd(text) {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  // A CR at the very end may be the first half of CRLF: wait for the next chunk.
  if (cr !== -1 && (lf === -1 || cr < lf)) return cr === text.length - 1 ? -1 : cr;
  return lf;
}
