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
async function largestNewSpaceMiB(capMiB: number): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { Worker } from 'node:worker_threads';
    import { capYoungGeneration } from ${JSON.stringify(capModule)};
    const cap = ${capMiB} > 0 ? capYoungGeneration(${capMiB}) : undefined;
    const kept = [];
    let largest = 0;
    const grow = async (tasks) => {
      for (let task = 0; task < tasks; task++) {
        for (let i = 0; i < 1000; i++) kept.push({ id: kept.length, name: 'session-' + i, tags: [i, task] });
        largest = Math.max(largest, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await grow(100);
    // As in the gateway: worker threads start after the cap holds, and Node resets V8's flags for them.
    const worker = new Worker('setTimeout(() => {}, 60_000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    cap?.reassert();
    await grow(300);
    await worker.terminate();
    console.log(largest / 2 ** 20, kept.length);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  const [mib, kept] = stdout.trim().split(' ').map(Number);
  assert.equal(kept, 400_000);
  return mib!;
}

test("capYoungGeneration keeps the main thread's semi-space at the cap where V8 would grow it", async () => {
  const uncapped = await largestNewSpaceMiB(0);
  const capped = await largestNewSpaceMiB(2);
  assert.ok(uncapped > 8, `without a cap V8 grows the new space (to ${uncapped} MiB here)`);
  if (Number(process.versions.v8.split('.')[0]) < 12) {
    // V8 11 (Node 20) holds it exactly: both halves of a 2 MiB semi-space.
    assert.ok(capped <= 4, `with a 2 MiB cap the new space stays at 4 MiB or less, was ${capped} MiB`);
  } else {
    // Newer V8 (Node 22+) sizes the new space by rules of its own and only partly follows the growth
    // factor; the cap still keeps it well below where it would go (README: NODE_OPTIONS holds it exactly).
    assert.ok(capped <= uncapped / 2, `capped ${capped} MiB against ${uncapped} MiB uncapped`);
  }
});
