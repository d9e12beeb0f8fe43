import { parentPort } from 'node:worker_threads';

/**
 * Loaded in a throwaway worker thread before the pool starts, to find out whether uWebSockets.js can
 * be loaded at all here (its native binary is picked per Node ABI and needs a recent enough glibc).
 * A load failure inside a pool worker would otherwise surface as an uncaught error with no task to fail.
 */
try {
  await import('uWebSockets.js');
  parentPort?.postMessage({ ok: true });
} catch (error) {
  parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
