// @ts-check
/**
 * Reads server-sent events from a fetch() response body. EventSource cannot send an Authorization
 * header, and the gateway takes its token only from that header (never from the URL, where it would
 * land in logs), so the page reads the stream itself.
 *
 * Each chunk is scanned once: an unfinished line waits as a list of pieces, so a multi-megabyte event
 * costs linear time however many chunks it arrives in.
 *
 * @param {ReadableStream<Uint8Array>} body
 * @param {(event: { event: string, data: string, id: string | undefined }) => void | boolean} onEvent
 *   return true to stop reading
 * @param {{ idleMs?: number }} [options] give up (throw) when nothing at all arrives for this long
 */
export async function readEvents(body, onEvent, options = {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  /** @type {string[]} */
  let pending = [];
  /** The previous chunk ended in CR: a LF starting this one belongs to it. */
  let skipLf = false;
  let event = '';
  /** @type {string[]} */
  let data = [];
  /** @type {string | undefined} */
  let id;

  /** @param {string} line @returns {boolean} stop */
  const onLine = (line) => {
    if (line === '') {
      const stop = data.length > 0 && onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = '';
      data = [];
      return Boolean(stop);
    }
    if (line.startsWith(':')) return false;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    return false;
  };

  try {
    for (;;) {
      const { value: chunk, done } = await readWithin(reader, options.idleMs);
      if (done) return;
      let from = 0;
      if (skipLf && chunk.length > 0) {
        if (chunk.charCodeAt(0) === 10) from = 1;
        skipLf = false;
      }
      for (let i = from; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        const tail = chunk.slice(from, i);
        const line = pending.length > 0 ? pending.join('') + tail : tail;
        pending = [];
        if (c === 13) {
          if (i + 1 === chunk.length) skipLf = true;
          else if (chunk.charCodeAt(i + 1) === 10) i += 1;
        }
        from = i + 1;
        if (onLine(line)) return;
      }
      if (from < chunk.length) pending.push(chunk.slice(from));
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * @param {ReadableStreamDefaultReader<string>} reader
 * @param {number | undefined} idleMs
 * @returns {Promise<ReadableStreamReadResult<string>>}
 */
function readWithin(reader, idleMs) {
  if (!idleMs) return reader.read();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const stalled = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing arrived for ${idleMs} ms`)), idleMs);
  });
  return /** @type {Promise<ReadableStreamReadResult<string>>} */ (
    Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer))
  );
}
