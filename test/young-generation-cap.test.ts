import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const capModule = fileURLToPath(new URL('../src/main/young-generation-cap.js', import.meta.url));

/**
 * V8 flags are process-wide, so each case runs in a child process of its own. The child keeps many
 * objects alive, made in small tasks as a gateway makes sessions, which is what grows the young
 * generation, and reports the largest new space it saw.
 */
async function newSpaceMiB(capMiB: number): Promise<{ atCap: number; largest: number }> {
  const script = `
    import { Worker } from 'node:worker_threads';
    import { capYoungGeneration, newSpaceBytes as newSpace } from ${JSON.stringify(capModule)};
    if (${capMiB} > 0) capYoungGeneration(${capMiB});
    const kept = [];
    let largest = 0;
    const grow = async (tasks, perTask) => {
      for (let task = 0; task < tasks; task++) {
        for (let i = 0; i < perTask; i++) kept.push({ id: kept.length, name: 'session-' + i, tags: [i, task] });
        largest = Math.max(largest, newSpace());
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    // Up to the cap (or, uncapped, past it), then a moment for the check that runs after each GC.
    while (kept.length < 400_000 && newSpace() < ${capMiB > 0 ? 2 * capMiB : 8} * 2 ** 20) await grow(1, 1000);
    await grow(5, 10);
    const atCap = largest;
    // As in the gateway: a worker thread starts (or is replaced) after the cap holds, and its new isolate
    // sets V8's growth factor back. Then a burst of larger tasks, several GCs each, where a check after
    // each GC alone would come too late: the cap must have noticed the worker by itself.
    const worker = new Worker('setTimeout(() => {}, 60_000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    await grow(30, 10_000);
    await worker.terminate();
    console.log(atCap / 2 ** 20, largest / 2 ** 20);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  const [atCap, largest] = stdout.trim().split(' ').map(Number);
  return { atCap: atCap!, largest: largest! };
}

test("capYoungGeneration stops the main thread's young generation from growing, across worker starts", async () => {
  const uncapped = await newSpaceMiB(0);
  const capped = await newSpaceMiB(2);
  assert.ok(uncapped.largest > 8, `without a cap V8 grows the new space (to ${uncapped.largest} MiB here)`);
  if (Number(process.versions.v8.split('.')[0]) < 12) {
    // V8 11 (Node 20): once at the cap (a burst may pass it by a step before the check after a GC runs),
    // the new space grows no further, though a worker started since.
    assert.ok(capped.atCap <= 8, `a 2 MiB cap stops growth by 8 MiB, was ${capped.atCap} MiB`);
    assert.equal(capped.largest, capped.atCap, 'no growth after a worker thread started');
  } else {
    // Newer V8 (Node 22+) sizes the new space by rules of its own and only partly follows the growth
    // factor; the cap still keeps it well below where it would go (README: NODE_OPTIONS holds it exactly).
    assert.ok(
      capped.largest <= uncapped.largest / 2,
      `capped ${capped.largest} MiB against ${uncapped.largest}`,
    );
  }
});
