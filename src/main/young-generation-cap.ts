import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The gateway CLI's default cap on the main thread's semi-space, in MiB. V8 grows it to 16 MiB (32 MiB
 * committed, both halves) when many long-lived objects are made quickly, as when thousands of sessions
 * open, and keeps it: about 3 KiB of RSS per idle session at 10,000 sessions. At 4 MiB an idle Streamable
 * HTTP session costs 4.3 instead of 6.1 KiB, with throughput unchanged within the noise (bench/README.md).
 */
export const DEFAULT_MAIN_SEMI_SPACE_MIB = 4;

/**
 * Stops the main thread's young generation from growing past `semiSpaceMiB`, the effect of node's
 * `--max-semi-space-size`, which cannot be changed once the process runs. V8 reads
 * `--semi-space-growth-factor` each time it grows the semi-space, so once the cap is reached the factor
 * is set to 1. Growth happens only in a GC, so the check runs after each GC.
 *
 * The flag is process-wide, and Node sets V8's flags anew whenever a worker thread starts, which undoes
 * it: so the check stays on for the life of the process, and `reassert()` is to be called once the
 * gateway's workers have started. Worker threads have their own young generation capped lower already
 * (`resourceLimits`). On Node 20 (V8 11) the cap holds exactly. Newer V8 (Node 22+) sizes the new space
 * by rules of its own and follows the growth factor only in part (about a quarter of its uncapped size
 * in test/young-generation-cap.test.ts); there `NODE_OPTIONS=--max-semi-space-size=4` holds it exactly.
 */
export function capYoungGeneration(semiSpaceMiB: number): { reassert(): void; stop(): void } {
  const capBytes = semiSpaceMiB * 2 ** 20;
  const reassert = () => {
    // The new space reports both semi-spaces.
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if ((newSpace?.space_size ?? 0) >= 2 * capBytes) setFlagsFromString('--semi-space-growth-factor=1');
  };
  reassert();
  const observer = new PerformanceObserver(reassert);
  observer.observe({ entryTypes: ['gc'] });
  return { reassert, stop: () => observer.disconnect() };
}
