/**
 * Near misses of a real session id (`<shard>-<base64url>`): another shard prefix, one character off,
 * truncated, extended, case-flipped, doubled. Every one differs from every id in `real` even after
 * the trimming HTTP does to header values, so a gateway that accepts one has matched a session it
 * should not have.
 */
export function forgeSessionIds(id: string, real: readonly string[]): string[] {
  const dash = id.indexOf('-');
  const shard = dash === -1 ? '' : id.slice(0, dash);
  const rest = dash === -1 ? id : id.slice(dash + 1);
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const candidates = [
    ...['0', '1', '2', '3', '9', 'z', '00', '-1'].map((other) => `${other}-${rest}`),
    rest,
    `-${rest}`,
    `${shard}${rest}`,
    `${shard}_${rest}`,
    `${id.slice(0, -1)}${flip(id.slice(-1))}`,
    `${shard}-${flip(rest[0] ?? '')}${rest.slice(1)}`,
    id.slice(0, -1),
    id.slice(1),
    `${id}A`,
    `${id}${id}`,
    id.toUpperCase(),
    id.toLowerCase(),
    `${id},${id}`,
    `${id};`,
    encodeURIComponent(id).replace(/-/g, '%2D'),
  ];
  const taken = new Set(real);
  return [...new Set(candidates)].filter((c) => c.trim() !== '' && !taken.has(c.trim()));
}
