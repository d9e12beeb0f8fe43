// @ts-check
import { McpSession } from './mcp-session.js';
import { showError, showResult } from './result-view.js';
import { buildForm } from './schema-form.js';
import { readEvents } from './sse-reader.js';

const TOKEN_KEY = 'mcp-runner-token';
/** Samples kept per worker for the sparkline: 90 snapshots, 2 s apart, are the last three minutes. */
const SPARK_SAMPLES = 90;
/** Reconnect delays grow from the first to the last, with jitter, and start over after a snapshot. */
const RECONNECT_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Snapshots come every 2 s: a feed silent this long is stalled (a sleeping laptop, a dead NAT entry). */
const FEED_IDLE_MS = 10_000;
/** A token the gateway could ever accept (its config rule): printable ASCII, no spaces. */
const TOKEN_SYNTAX = /^[\x21-\x7e]+$/;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {any} the latest /status snapshot */
  status: undefined,
  /** the snapshot's clock minus ours, so uptimes are the gateway's */
  clockOffset: 0,
  /** @type {Map<number, { requests: number, time: number, rates: number[] }>} */
  workerRates: new Map(),
  /** @type {McpSession | undefined} */
  session: undefined,
  /** @type {any[]} */
  tools: [],
  /** @type {(() => Record<string, unknown>) | undefined} */
  readArgs: undefined,
  /** Bumped when the user picks another tool or server; a call's answer is shown only if it matches. */
  callSeq: 0,
};

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** @param {string} label @param {string} [text] */
function setFeedState(label, text) {
  const element = $('feed-state');
  element.dataset.state = label;
  element.textContent = text ?? label;
}

// --- the live feed -------------------------------------------------------------------------------

async function followStatus() {
  let delay = RECONNECT_MS;
  for (;;) {
    try {
      const response = await fetch('/status/events', { headers: authHeaders(), cache: 'no-store' });
      if (response.status === 401) {
        setFeedState('unauthorized', 'token needed');
        askForToken();
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      $('token-form').hidden = true;
      setFeedState('live');
      await readEvents(
        response.body,
        ({ event, data }) => {
          if (event === 'status') {
            onSnapshot(JSON.parse(data));
            delay = RECONNECT_MS;
          } else if (event === 'server-status') onServerStatus(JSON.parse(data));
          return false;
        },
        { idleMs: FEED_IDLE_MS },
      );
    } catch {
      // A stalled or dropped feed, or a gateway that is away: try again below.
    }
    setFeedState('disconnected', 'reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, delay * (0.75 + Math.random() / 2)));
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  }
}

function askForToken() {
  const form = /** @type {HTMLFormElement} */ ($('token-form'));
  form.hidden = false;
  const input = /** @type {HTMLInputElement} */ ($('token-input'));
  const problem = $('token-error');
  input.focus();
  form.onsubmit = (event) => {
    event.preventDefault();
    const token = input.value.trim();
    // A character a header cannot carry would make every fetch throw before it is sent.
    if (!TOKEN_SYNTAX.test(token)) {
      problem.textContent = 'A token is printable ASCII without spaces; check what was pasted.';
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = '';
    form.hidden = true;
    setFeedState('connecting', 'connecting…');
    void followStatus();
  };
}

/** @param {any} snapshot */
function onSnapshot(snapshot) {
  state.status = snapshot;
  state.clockOffset = snapshot.time - Date.now();
  for (const worker of snapshot.workers) {
    const seen = state.workerRates.get(worker.shard);
    if (!seen) {
      state.workerRates.set(worker.shard, { requests: worker.requests, time: snapshot.time, rates: [] });
      continue;
    }
    const seconds = (snapshot.time - seen.time) / 1000;
    if (seconds <= 0) continue;
    // A replaced worker starts counting from zero again.
    const delta = worker.requests >= seen.requests ? worker.requests - seen.requests : worker.requests;
    seen.rates.push(delta / seconds);
    if (seen.rates.length > SPARK_SAMPLES) seen.rates.shift();
    seen.requests = worker.requests;
    seen.time = snapshot.time;
  }
  renderServers();
  renderWorkers();
  renderSummary();
  renderServerChoice();
}

/** @param {any} change */
function onServerStatus(change) {
  if (!state.status || change.instance !== 0) return;
  const server = state.status.servers.find((/** @type {any} */ s) => s.name === change.name);
  if (!server) return;
  server.status = change.status;
  server.pid = change.pid ?? undefined;
  server.restarts = change.restarts;
  server.lastError = change.lastError ?? undefined;
  if (change.status === 'running') server.startedAt = Date.now() + state.clockOffset;
  else server.startedAt = undefined;
  renderServers();
  renderServerChoice();
}

// --- rendering -----------------------------------------------------------------------------------

/** @param {string} text @param {string} [className] */
function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderServers() {
  const body = /** @type {HTMLTableSectionElement} */ ($('servers').querySelector('tbody'));
  const now = Date.now() + state.clockOffset;
  body.replaceChildren(
    ...state.status.servers.map((/** @type {any} */ server) => {
      const row = document.createElement('tr');
      row.dataset.server = server.name;
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.dataset.status = server.status;
      badge.textContent = server.status;
      const statusCell = document.createElement('td');
      statusCell.className = 'status-cell';
      statusCell.append(badge);
      const replicas = server.replicas?.length ? ` (+${server.replicas.length} replicas)` : '';
      const isolated = server.isolatedProcesses ? ` (+${server.isolatedProcesses} isolated)` : '';
      row.append(
        cell(server.name + replicas + isolated),
        statusCell,
        cell(server.pid ? String(server.pid) : '–', 'num pid-cell'),
        cell(server.startedAt && server.status === 'running' ? duration(now - server.startedAt) : '–', 'num'),
        cell(String(server.restarts ?? 0), 'num restarts-cell'),
        cell(String(server.inFlight ?? 0), 'num'),
        cell(server.lastError ?? '', 'error-cell'),
      );
      return row;
    }),
  );
}

function renderWorkers() {
  const body = /** @type {HTMLTableSectionElement} */ ($('workers').querySelector('tbody'));
  body.replaceChildren(
    ...state.status.workers.map((/** @type {any} */ worker) => {
      const rates = state.workerRates.get(worker.shard)?.rates ?? [];
      const row = document.createElement('tr');
      row.dataset.worker = String(worker.shard);
      const sparkCell = document.createElement('td');
      sparkCell.append(sparkline(rates));
      row.append(
        cell(String(worker.shard), 'num'),
        cell(String(worker.sessions), 'num'),
        cell(String(worker.streams), 'num'),
        cell(bytes(worker.bufferedBytes), 'num'),
        cell(bytes(worker.heapUsedBytes), 'num'),
        cell(rates.length ? rates[rates.length - 1].toFixed(1) : '–', 'num rate-cell'),
        sparkCell,
      );
      return row;
    }),
  );
}

function renderSummary() {
  const s = state.status;
  $('summary').textContent =
    `${s.sessions} sessions · ${s.inflight} calls in flight · ${s.workers.length} workers` +
    ` · ${s.workerRestarts} worker restarts · main heap ${bytes(s.main.heapUsedBytes)}, RSS ${bytes(s.main.rssBytes)}`;
}

/** @param {number[]} values */
function sparkline(values) {
  const width = 180;
  const height = 28;
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const max = Math.max(1, ...values);
  const step = width / (SPARK_SAMPLES - 1);
  const offset = SPARK_SAMPLES - values.length;
  const points = values.map(
    (v, i) => `${((offset + i) * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`,
  );
  // The time axis is fixed (the last three minutes), so a baseline shows where the samples will go.
  const baseline = document.createElementNS(svgNs, 'line');
  baseline.setAttribute('x1', '0');
  baseline.setAttribute('x2', String(width));
  baseline.setAttribute('y1', String(height - 0.5));
  baseline.setAttribute('y2', String(height - 0.5));
  const line = document.createElementNS(svgNs, 'polyline');
  line.setAttribute('points', points.join(' '));
  const peak = document.createElementNS(svgNs, 'title');
  peak.textContent = `peak ${max.toFixed(1)} messages/s`;
  svg.append(peak, baseline, line);
  return svg;
}

/** @param {number} ms */
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** @param {number} n */
function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// --- the tool explorer ---------------------------------------------------------------------------

function renderServerChoice() {
  const select = /** @type {HTMLSelectElement} */ ($('server-select'));
  const names = state.status.servers.map((/** @type {any} */ s) => s.name);
  const current = [...select.options].map((o) => o.value);
  if (
    current.length === names.length + 1 &&
    names.every((/** @type {string} */ n, /** @type {number} */ i) => current[i + 1] === n)
  )
    return;
  const chosen = select.value;
  select.replaceChildren(
    new Option('choose a server…', ''),
    ...names.map((/** @type {string} */ n) => new Option(n, n)),
  );
  select.value = names.includes(chosen) ? chosen : '';
}

async function chooseServer() {
  const name = /** @type {HTMLSelectElement} */ ($('server-select')).value;
  state.session?.close();
  state.session = undefined;
  forgetCall();
  $('tool-list').replaceChildren();
  $('tool-panel').hidden = true;
  const explorerState = $('explorer-state');
  explorerState.textContent = '';
  if (!name) return;
  explorerState.textContent = 'connecting…';
  const session = new McpSession(`/servers/${encodeURIComponent(name)}/mcp`, authHeaders);
  state.session = session;
  try {
    await session.connect();
    if (state.session !== session) return; // switched away: close() already ended the session
    const tools = await session.listTools();
    if (state.session !== session) return;
    state.tools = tools;
    explorerState.textContent = `${tools.length} tools`;
    $('tool-list').replaceChildren(
      ...tools.map((tool) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = tool.name;
        button.title = tool.description ?? '';
        button.dataset.tool = tool.name;
        button.onclick = () => chooseTool(tool);
        item.append(button);
        return item;
      }),
    );
  } catch (error) {
    if (state.session === session)
      explorerState.textContent = `could not list tools: ${String(/** @type {Error} */ (error).message)}`;
  }
}

/** A call still running belongs to the tool it was made for: its answer must not land on another. */
function forgetCall() {
  state.callSeq += 1;
  /** @type {HTMLButtonElement} */ ($('call-button')).disabled = false;
}

/** @param {any} tool */
function chooseTool(tool) {
  forgetCall();
  for (const button of $('tool-list').querySelectorAll('button'))
    button.setAttribute('aria-pressed', String(button.dataset.tool === tool.name));
  $('tool-panel').hidden = false;
  $('tool-name').textContent = tool.name;
  $('tool-description').textContent = tool.description ?? '';
  $('result').hidden = true;
  $('args-error').hidden = true;
  state.readArgs = buildForm($('tool-fields'), tool.inputSchema);
  const raw = /** @type {HTMLInputElement} */ ($('raw-mode'));
  raw.checked = false;
  setRawMode(false);
}

/** @param {boolean} on */
function setRawMode(on) {
  const textarea = /** @type {HTMLTextAreaElement} */ ($('raw-args'));
  if (on) {
    let args = {};
    try {
      args = state.readArgs?.() ?? {};
    } catch {
      // An unfinished form still switches; the raw box starts from what could be read.
    }
    textarea.value = JSON.stringify(args, null, 2);
  }
  textarea.hidden = !on;
  $('tool-fields').hidden = on;
}

/** @returns {Record<string, unknown>} */
function currentArgs() {
  if (!(/** @type {HTMLInputElement} */ ($('raw-mode')).checked)) return state.readArgs?.() ?? {};
  const parsed = JSON.parse(/** @type {HTMLTextAreaElement} */ ($('raw-args')).value || '{}');
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('arguments must be a JSON object');
  return parsed;
}

/** @param {SubmitEvent} event */
async function callTool(event) {
  event.preventDefault();
  const argsError = $('args-error');
  const result = $('result');
  /** @type {Record<string, unknown>} */
  let args;
  try {
    args = currentArgs();
    argsError.hidden = true;
  } catch (error) {
    argsError.textContent = String(/** @type {Error} */ (error).message);
    argsError.hidden = false;
    return;
  }
  const session = state.session;
  const name = $('tool-name').textContent ?? '';
  if (!session) return;
  const button = /** @type {HTMLButtonElement} */ ($('call-button'));
  const seq = state.callSeq;
  button.disabled = true;
  result.dataset.state = 'calling';
  /** @type {(() => void) | undefined} */
  let show;
  try {
    const answer = await session.callTool(name, args);
    show = () => showResult(result, answer);
  } catch (error) {
    show = () => showError(result, String(/** @type {Error} */ (error).message));
  }
  if (seq !== state.callSeq) return; // the user moved on to another tool or server meanwhile
  show();
  button.disabled = false;
  result.dataset.state = 'done';
}

$('server-select').addEventListener('change', () => void chooseServer());
$('raw-mode').addEventListener('change', (event) =>
  setRawMode(/** @type {HTMLInputElement} */ (event.target).checked),
);
$('tool-form').addEventListener('submit', (event) => void callTool(/** @type {SubmitEvent} */ (event)));
window.addEventListener('pagehide', () => state.session?.close());
// Uptimes tick between snapshots without asking the gateway anything.
setInterval(() => {
  if (state.status) renderServers();
}, 1_000);
void followStatus();
