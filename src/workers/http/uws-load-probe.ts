import { parentPort } from 'node:worker_threads';

/**
 * Loaded in a throwaway worker thread before the pool starts, to find out whether the uWS engine can
 * run here at all (its native binary is picked per Node ABI and needs a recent enough glibc). A load
 * failure inside a pool worker would otherwise surface as an uncaught error with no task to fail.
 */
try {
  await import('./uws-engine.js');
  parentPort?.postMessage({ ok: true });
} catch (error) {
  parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
