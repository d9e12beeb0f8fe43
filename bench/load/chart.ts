import type { Row } from './measure.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const W = 420;
const H = 300;
const PAD = { left: 60, right: 10, top: 30, bottom: 40 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** One panel: calls/s against sessions (log scale), one line per target. */
function panel(rows: Row[], title: string, x0: number, names: string[]): string {
  const sessions = [...new Set(rows.map((r) => r.sessions))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...rows.map((r) => r.callsPerSecond)) * 1.1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xOf = (n: number) =>
    x0 +
    PAD.left +
    (sessions.length === 1 ? plotW / 2 : (sessions.indexOf(n) / (sessions.length - 1)) * plotW);
  const yOf = (v: number) => PAD.top + plotH - (v / maxY) * plotH;
  const parts = [
    `<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${x0 + PAD.left}" y1="${PAD.top + plotH}" x2="${x0 + W - PAD.right}" y2="${PAD.top + plotH}" stroke="#333"/>`,
    `<line x1="${x0 + PAD.left}" y1="${PAD.top}" x2="${x0 + PAD.left}" y2="${PAD.top + plotH}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    parts.push(
      `<text x="${x0 + PAD.left - 6}" y="${yOf(v) + 4}" text-anchor="end">${Math.round(v)}</text>`,
      `<line x1="${x0 + PAD.left}" y1="${yOf(v)}" x2="${x0 + W - PAD.right}" y2="${yOf(v)}" stroke="#ddd"/>`,
    );
  }
  for (const n of sessions) parts.push(`<text x="${xOf(n)}" y="${H - 22}" text-anchor="middle">${n}</text>`);
  parts.push(`<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle">sessions</text>`);
  names.forEach((name, i) => {
    const points = sessions
      .map((n) => rows.find((r) => r.target === name && r.sessions === n))
      .filter((r): r is Row => r !== undefined)
      .map((r) => `${xOf(r.sessions).toFixed(1)},${yOf(r.callsPerSecond).toFixed(1)}`);
    if (points.length === 0) return;
    const color = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of points) {
      const [x, y] = p.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
    }
  });
  return parts.join('\n');
}

/** calls/s against sessions, a panel per transport, a line per target (each worker count of ours is one). */
export function chart(rows: Row[]): string {
  const transports = [...new Set(rows.map((r) => r.transport))];
  const names = [...new Set(rows.map((r) => r.target))];
  const width = W * transports.length;
  const legendH = 18 * names.length + 10;
  const panels = transports.map((t, i) =>
    panel(
      rows.filter((r) => r.transport === t),
      t === 'sse' ? 'legacy SSE: calls/s' : 'Streamable HTTP: calls/s',
      i * W,
      names,
    ),
  );
  const legend = names.map(
    (name, i) =>
      `<rect x="${PAD.left}" y="${H + 8 + i * 18}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>` +
      `<text x="${PAD.left + 18}" y="${H + 18 + i * 18}">${escapeXml(name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + legendH}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
