import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogRateLimiter } from '../src/main/log-rate-limiter.js';

describe('LogRateLimiter: a flood is cut to a few lines and every dropped line is counted once', () => {
  test('a burst followed by silence is summed up at the end of its window', async () => {
    const summaries: number[] = [];
    const limiter = new LogRateLimiter(2, 50, (n) => summaries.push(n));
    const taken = Array.from({ length: 7 }, () => limiter.take());
    assert.deepEqual(taken, [0, 0, -1, -1, -1, -1, -1]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(summaries, [5]);
    assert.equal(limiter.take(), 0, 'the summary took the count; the next line carries none');
  });

  test('a line let through in the next window carries the count, and no summary repeats it', async () => {
    const summaries: number[] = [];
    const limiter = new LogRateLimiter(1, 50, (n) => summaries.push(n));
    const start = Date.now();
    assert.equal(limiter.take(start), 0);
    assert.equal(limiter.take(start + 1), -1);
    assert.equal(limiter.take(start + 2), -1);
    assert.equal(limiter.take(start + 60), 2, 'the first line of the next window says 2 were dropped');
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(summaries, []);
  });
});
