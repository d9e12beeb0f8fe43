import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { findChromium, launchChromium } from './support/browser.js';
import { connectStreamable, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath, serverEverythingPath } from './support/paths.js';
import { isAlive, waitFor, waitForAsync } from './support/processes.js';

/**
 * The status page and tool explorer, driven in headless Chromium as an operator would use them. Only
 * this file needs a browser; without one it is skipped, loudly, and the rest of the suite runs.
 * `npm run docs:screenshot` (STATUS_PAGE_SCREENSHOT=docs/status-page.png) also saves the screenshot used in the docs.
 */
const TOKEN = 'status-page-test-token';

// The callbacks given to page.evaluate run in the page; the test is compiled without the DOM library.
declare const sessionStorage: { getItem(key: string): string | null };
declare const document: { querySelector(selector: string): PageElement | null };
interface PageElement {
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
interface PageImage {
  complete: boolean;
  naturalWidth: number;
}
const chromiumPath = findChromium();
if (!chromiumPath) {
  console.error(
    '\n!!! SKIPPING the status page browser test: no Chromium found (set CHROMIUM_PATH, or apt-get install chromium).\n',
  );
}

describe('status page in headless Chromium', {
  skip: chromiumPath ? false : 'no Chromium on this machine',
}, () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];

  before(async () => {
    gw = await startTestGateway(
      {
        echo: {
          command: process.execPath,
          args: [fixturePath('echo-server')],
          restart: { initialDelayMs: 100 },
        },
        everything: { command: process.execPath, args: [serverEverythingPath, 'stdio'] },
      },
      { authenticate: { bearer: { token: TOKEN } } },
    );
    browser = await launchChromium(chromiumPath!);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('request', (request) => requested.push(`${request.method()} ${new URL(request.url()).pathname}`));
  });

  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  test('the page shell is served without the token, with a strict CSP; its data needs the token', async () => {
    const shell = await fetch(`${gw.url}/`);
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(shell.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.match(await shell.text(), /<script type="module" src="\/ui\/app.js">/);
    assert.equal((await fetch(`${gw.url}/ui/app.js`)).status, 200);
    assert.equal((await fetch(`${gw.url}/ui/..%2Fpackage.json`)).status, 404, 'only the files in ui/');
    assert.equal((await fetch(`${gw.url}/package.json`)).status, 401, 'nothing else without the token');
    assert.equal((await fetch(`${gw.url}/ui/nope.js`)).status, 404);
    const feed = await fetch(`${gw.url}/status/events`);
    assert.equal(feed.status, 401);
    await feed.body?.cancel();
    const spoofed = await fetch(`${gw.url}/`, { headers: { origin: 'http://evil.example' } });
    assert.equal(spoofed.status, 403, 'the page is behind the same Origin rules');
  });

  test('asks for the token, refuses a wrong one, then lists every configured server as running', async () => {
    await page.goto(`${gw.url}/`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token-input', 'wrong-token');
    await page.click('#token-form button');
    await page.locator('#feed-state[data-state="unauthorized"]').waitFor();
    await page.locator('#token-form').waitFor({ state: 'visible' });

    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button');
    await page.locator('#feed-state[data-state="live"]').waitFor();
    await page.locator('#token-form').waitFor({ state: 'hidden' });
    for (const name of ['echo', 'everything']) {
      const row = page.locator(`#servers tr[data-server="${name}"]`);
      await row.locator('.badge[data-status="running"]').waitFor();
      const pid = Number(await row.locator('.pid-cell').textContent());
      assert.ok(pid > 0 && isAlive(pid), `${name} shows its live pid`);
    }
    // A snapshot leaves out a worker slow to answer its stats; the next one has it.
    await page.locator('#workers tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('#workers tbody tr').count(), 2, 'one row per worker');
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem('mcp-runner-token')),
      TOKEN,
      'the token is kept in session storage',
    );
  });

  test('a killed backend shows up as it happens, over the status feed alone', async () => {
    const row = page.locator('#servers tr[data-server="echo"]');
    const oldPid = Number(await row.locator('.pid-cell').textContent());
    const feedsBefore = requested.filter((r) => r === 'GET /status/events').length;
    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => !isAlive(oldPid), 5_000);
    // The restart comes back with a new pid and a restart count of 1.
    await page.waitForFunction(
      (pid) => {
        const tr = document.querySelector('#servers tr[data-server="echo"]');
        const shownPid = tr?.querySelector('.pid-cell')?.textContent;
        return (
          tr?.querySelector('.restarts-cell')?.textContent === '1' && shownPid !== '–' && shownPid !== pid
        );
      },
      String(oldPid),
      { timeout: 15_000 },
    );
    await row.locator('.badge[data-status="running"]').waitFor();
    const newPid = Number(await row.locator('.pid-cell').textContent());
    assert.ok(isAlive(newPid));
    // No polling: the page never asked /status, and kept its one feed connection.
    assert.ok(!requested.includes('GET /status'), requested.join(', '));
    assert.equal(requested.filter((r) => r === 'GET /status/events').length, feedsBefore);
  });

  test('the explorer calls echo from a generated form and shows the answer', async () => {
    await page.selectOption('#server-select', 'echo');
    await page.locator('#tool-list button[data-tool="echo"]').click();
    await page.fill('#arg-text', 'hello from the browser');
    await page.click('#call-button');
    await page.locator('#result[data-state="done"]').waitFor();
    assert.equal(await page.locator('#result').getAttribute('data-error'), 'false');
    assert.equal((await page.locator('#result pre').first().textContent())?.trim(), 'hello from the browser');
  });

  test('numbers from the form and raw JSON reach server-everything; an image result is shown', async () => {
    await page.selectOption('#server-select', 'everything');
    await page.locator('#tool-list button[data-tool="get-sum"]').click();
    await page.fill('#arg-a', '19');
    await page.fill('#arg-b', '23');
    await page.click('#call-button');
    await page.locator('#result[data-state="done"]').waitFor();
    assert.match((await page.locator('#result').textContent()) ?? '', /42/);

    await page.check('#raw-mode');
    assert.deepEqual(JSON.parse(await page.inputValue('#raw-args')), { a: 19, b: 23 });
    await page.fill('#raw-args', '{"a": 1, "b": 2}');
    await page.click('#call-button');
    await page.waitForFunction(() => /\b3\b/.test(document.querySelector('#result')?.textContent ?? ''));

    await page.fill('#raw-args', '{"a": ');
    await page.click('#call-button');
    await page.locator('#args-error').waitFor({ state: 'visible' });

    await page.locator('#tool-list button[data-tool="get-tiny-image"]').click();
    await page.click('#call-button');
    const image = page.locator('#result img');
    await image.waitFor();
    assert.ok(
      await image.evaluate((img) => {
        const decoded = img as unknown as PageImage;
        return decoded.complete && decoded.naturalWidth > 0;
      }),
      'decoded',
    );
  });

  test('screenshot for the docs', { skip: !process.env.STATUS_PAGE_SCREENSHOT }, async () => {
    // Some traffic first, so the workers' rates and sparklines have something to show.
    const { client } = await connectStreamable(`${gw.url}/servers/echo/mcp`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const until = Date.now() + 40_000;
    while (Date.now() < until) {
      await Promise.all(
        Array.from({ length: 20 }, () => client.callTool({ name: 'echo', arguments: { text: 'x' } })),
      );
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
    }
    await page.selectOption('#server-select', 'echo');
    await page.locator('#tool-list button[data-tool="echo"]').click();
    await page.fill('#arg-text', 'hello from the status page');
    await page.click('#call-button');
    await page.locator('#result[data-state="done"]').waitFor();
    await page.screenshot({ path: process.env.STATUS_PAGE_SCREENSHOT!, fullPage: true });
    await client.close();
  });

  test('switching servers quickly leaves no session behind, and a token a header cannot carry is refused', async () => {
    const sessionsNow = async () =>
      (
        (await (
          await fetch(`${gw.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
        ).json()) as {
          sessions: number;
        }
      ).sessions;
    await page.selectOption('#server-select', '');
    assert.ok(await waitForAsync(async () => (await sessionsNow()) === 0, 5_000), 'explorer session ended');
    // Each pick ends the previous pick's session, even one whose initialize is still on its way.
    for (const name of ['echo', 'everything', 'echo', 'everything', 'echo'])
      await page.selectOption('#server-select', name);
    await page.locator('#tool-list button[data-tool="echo"]').waitFor();
    assert.ok(
      await waitForAsync(async () => (await sessionsNow()) === 1, 5_000),
      `one explorer session left, not ${await sessionsNow()}`,
    );

    const fresh = await browser.newPage();
    try {
      await fresh.goto(`${gw.url}/`);
      await fresh.fill('#token-input', 'pasted “smart quotes”');
      await fresh.click('#token-form button');
      await fresh.locator('#token-error').waitFor({ state: 'visible' });
      assert.equal(await fresh.evaluate(() => sessionStorage.getItem('mcp-runner-token')), null);
    } finally {
      await fresh.close();
    }
  });

  test('a tool error and a call to a server that went away are shown as errors', async () => {
    await page.selectOption('#server-select', 'echo');
    await page.locator('#tool-list button[data-tool="echo"]').click();
    // Stop the backend for good: the gateway answers the call with an error, and the page shows it.
    await gw.runner.supervisor.stop('echo');
    await page.fill('#arg-text', 'anyone there?');
    await page.click('#call-button');
    await page.locator('#result[data-state="done"]').waitFor();
    assert.equal(await page.locator('#result').getAttribute('data-error'), 'true');
    await page.locator('#servers tr[data-server="echo"] .badge[data-status="stopped"]').waitFor();
  });
});
