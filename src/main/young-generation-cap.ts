import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

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
 * is set to 1. Growth happens only in a GC, so the size is checked after each GC.
 *
 * The flag is process-wide, and V8 sets it back to 2 whenever an isolate starts, that is for every new
 * worker thread (the gateway's, or a replacement after a crash). So once the cap has been reached the
 * flag is set again as each worker comes online (node's `worker_threads` diagnostics channel), and after
 * each GC. Worker threads have their own young generation capped lower already (`resourceLimits`).
 *
 * On Node 20 (V8 11) this holds the cap, give or take a step when a burst makes several GCs in one task;
 * a cap that is not a power of two holds at the next one up. Newer V8 (Node 22+) sizes the new space by
 * rules of its own and follows the growth factor only in part (about a quarter of its uncapped size in
 * test/young-generation-cap.test.ts); there `NODE_OPTIONS=--max-semi-space-size=4` holds it exactly.
 */
/** The main thread's new space as V8 reports it: both semi-spaces, committed. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

export function capYoungGeneration(semiSpaceMiB: number): { reassert(): void; stop(): void } {
  const capBytes = semiSpaceMiB * 2 ** 20;
  let reached = false;
  const reassert = () => {
    if (!reached) reached = newSpaceBytes() >= 2 * capBytes;
    if (reached) setFlagsFromString('--semi-space-growth-factor=1');
  };
  const onWorker = (message: unknown) => {
    (message as { worker: Worker }).worker.once('online', reassert);
  };
  reassert();
  const observer = new PerformanceObserver(reassert);
  observer.observe({ entryTypes: ['gc'] });
  subscribe('worker_threads', onWorker);
  return {
    reassert,
    stop: () => {
      observer.disconnect();
      unsubscribe('worker_threads', onWorker);
    },
  };
}
