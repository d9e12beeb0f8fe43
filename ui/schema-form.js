// @ts-check
/**
 * A form for a tool's input schema. Plain properties get inputs of their type (text, number, checkbox,
 * a select for enums); anything richer (objects, arrays, unions) gets a JSON text box for that field,
 * and the whole thing can be switched to raw JSON.
 */

/**
 * @typedef {{ name: string, kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json',
 *   required: boolean, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement }} Field
 */

/**
 * Builds the fields into `container`; returns a function that reads the arguments back (it throws an
 * Error naming the field when a value cannot be read).
 * @param {HTMLElement} container
 * @param {any} schema
 * @returns {() => Record<string, unknown>}
 */
export function buildForm(container, schema) {
  container.replaceChildren();
  const properties = schema && typeof schema === 'object' ? (schema.properties ?? {}) : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  /** @type {Field[]} */
  const fields = [];
  for (const [name, property] of Object.entries(properties)) {
    const field = makeField(name, property ?? {}, required.has(name));
    fields.push(field);
    const row = document.createElement('div');
    row.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = field.input.id;
    label.textContent = field.required ? `${name} *` : name;
    row.append(label, field.input);
    if (property?.description) {
      const hint = document.createElement('span');
      hint.className = 'hint';
      hint.textContent = property.description;
      row.append(hint);
    }
    container.append(row);
  }
  if (fields.length === 0) {
    const none = document.createElement('p');
    none.className = 'hint';
    none.textContent = 'This tool takes no arguments.';
    container.append(none);
  }
  return () => readFields(fields);
}

/**
 * @param {string} name
 * @param {any} property
 * @param {boolean} required
 * @returns {Field}
 */
function makeField(name, property, required) {
  const id = `arg-${name}`;
  const type = Array.isArray(property.type) ? undefined : property.type;
  if (
    Array.isArray(property.enum) &&
    property.enum.every((/** @type {unknown} */ v) => typeof v === 'string')
  ) {
    const select = document.createElement('select');
    select.id = id;
    if (!required) select.append(new Option('', ''));
    for (const value of property.enum) select.append(new Option(value, value));
    if (typeof property.default === 'string') select.value = property.default;
    return { name, kind: 'enum', required, input: select };
  }
  if (type === 'boolean') {
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.id = id;
    input.checked = property.default === true;
    return { name, kind: 'boolean', required, input };
  }
  if (type === 'string' || type === 'number' || type === 'integer') {
    const input = document.createElement('input');
    input.type = type === 'string' ? 'text' : 'number';
    if (type === 'integer') input.step = '1';
    if (type === 'number') input.step = 'any';
    input.id = id;
    input.name = name;
    if (property.default !== undefined) input.value = String(property.default);
    return { name, kind: type, required, input };
  }
  const textarea = document.createElement('textarea');
  textarea.id = id;
  textarea.rows = 3;
  textarea.spellcheck = false;
  textarea.placeholder = 'JSON';
  if (property.default !== undefined) textarea.value = JSON.stringify(property.default, null, 2);
  return { name, kind: 'json', required, input: textarea };
}

/** @param {Field[]} fields */
function readFields(fields) {
  /** @type {Array<[string, unknown]>} */
  const entries = [];
  // Collected as pairs and made an object at the end: assigning `args['__proto__']` would set the
  // object's prototype instead of an argument of that name.
  for (const field of fields) {
    const { input } = field;
    if (field.kind === 'boolean') {
      entries.push([field.name, /** @type {HTMLInputElement} */ (input).checked]);
      continue;
    }
    const raw = input.value;
    if (raw === '') {
      if (field.required) throw new Error(`${field.name} is required`);
      continue;
    }
    if (field.kind === 'number' || field.kind === 'integer') {
      const value = Number(raw);
      if (!Number.isFinite(value) || (field.kind === 'integer' && !Number.isInteger(value)))
        throw new Error(`${field.name} must be ${field.kind === 'integer' ? 'an integer' : 'a number'}`);
      entries.push([field.name, value]);
    } else if (field.kind === 'json') {
      try {
        entries.push([field.name, JSON.parse(raw)]);
      } catch {
        throw new Error(`${field.name} is not valid JSON`);
      }
    } else {
      entries.push([field.name, raw]);
    }
  }
  return Object.fromEntries(entries);
}
