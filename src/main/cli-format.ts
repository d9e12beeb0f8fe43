import type { ServerStatusInfo } from './managed-server.js';

function formatUptime(startedAt: number | undefined, now: number): string {
  if (startedAt === undefined) return '-';
  const s = Math.max(0, Math.round((now - startedAt) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** A plain-text table of server statuses for terminals and logs (no colours: output is often piped). */
export function formatStatusTable(statuses: readonly ServerStatusInfo[], now = Date.now()): string {
  const header = ['SERVER', 'STATUS', 'PID', 'UPTIME', 'RESTARTS', 'LAST ERROR'];
  const rows = statuses.map((s) => [
    s.name,
    s.disabled ? 'disabled' : s.status,
    s.pid === undefined ? '-' : String(s.pid),
    formatUptime(s.startedAt, now),
    String(s.restarts),
    s.lastError ? s.lastError.split('\n')[0]!.slice(0, 100) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
