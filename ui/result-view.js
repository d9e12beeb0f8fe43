// @ts-check
/**
 * Shows a tool result: text as text, images and audio from their base64 data, embedded resources and
 * links by what they are, and structured content as JSON. Nothing a backend sends is ever parsed as
 * HTML.
 */

/**
 * @param {HTMLElement} container
 * @param {any} result a CallToolResult
 */
export function showResult(container, result) {
  container.replaceChildren();
  container.hidden = false;
  container.dataset.error = String(result?.isError === true);
  if (result?.isError) container.append(note('The tool reported an error:'));
  for (const item of Array.isArray(result?.content) ? result.content : [])
    container.append(contentItem(item));
  if (result?.structuredContent !== undefined) {
    container.append(note('Structured content:'), pre(JSON.stringify(result.structuredContent, null, 2)));
  }
}

/**
 * @param {HTMLElement} container
 * @param {string} message
 */
export function showError(container, message) {
  container.replaceChildren(pre(message));
  container.hidden = false;
  container.dataset.error = 'true';
}

/** @param {any} item */
function contentItem(item) {
  switch (item?.type) {
    case 'text':
      return pre(String(item.text ?? ''));
    case 'image': {
      const img = document.createElement('img');
      img.alt = `image (${item.mimeType})`;
      img.src = `data:${safeMime(item.mimeType, 'image/')};base64,${item.data}`;
      return img;
    }
    case 'audio': {
      const audio = document.createElement('audio');
      audio.controls = true;
      audio.src = `data:${safeMime(item.mimeType, 'audio/')};base64,${item.data}`;
      return audio;
    }
    case 'resource': {
      const resource = item.resource ?? {};
      const body =
        typeof resource.text === 'string' ? resource.text : `(${resource.mimeType ?? 'binary'} data)`;
      return group(note(`resource ${resource.uri ?? ''}`), pre(body));
    }
    case 'resource_link':
      return note(`link: ${item.name ?? ''} ${item.uri ?? ''}`);
    default:
      return pre(JSON.stringify(item, null, 2));
  }
}

/**
 * A data: URL may only carry the media kind it is shown as.
 * @param {unknown} mime
 * @param {string} prefix
 */
function safeMime(mime, prefix) {
  return typeof mime === 'string' && mime.startsWith(prefix) && /^[\w.+/-]+$/.test(mime)
    ? mime
    : `${prefix}unknown`;
}

/** @param {string} text */
function pre(text) {
  const element = document.createElement('pre');
  element.textContent = text;
  return element;
}

/** @param {string} text */
function note(text) {
  const element = document.createElement('p');
  element.className = 'hint';
  element.textContent = text;
  return element;
}

/** @param {HTMLElement[]} children */
function group(...children) {
  const div = document.createElement('div');
  div.append(...children);
  return div;
}
