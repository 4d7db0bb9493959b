// The chat page at `/` in a real browser: Debian's Chromium, headless, driven by playwright-core.
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, test} from 'node:test';
import {chromium} from 'playwright-core';

import {metric, startServer, waitSlotsIdle} from './lib/serve.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// No network but loopback, no background services, a fresh profile each run.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server;
let context;
let page;
let profile;
const pageErrors = [];

before(async () => {
  server = await startServer(['-np', '2']);
  profile = mkdtempSync(join(tmpdir(), 'infer-chat-page-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: {width: 390, height: 800},
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  if (process.env.DEBUG_PAGE) page.on('console', (m) => console.log('page:', m.text()));
  if (process.env.DEBUG_PAGE) page.on('request', (r) => console.log('req:', r.method(), r.url(), r.postData()?.slice(0, 300)));
});

after(async () => {
  await context?.close();
  await server?.stop();
  if (profile) rmSync(profile, {recursive: true, force: true});
});

async function setSetting(selector, value) {
  await page.click('#settings summary');
  await page.fill(selector, String(value));
  await page.dispatchEvent(selector, 'change');
  await page.click('#settings summary');
}

test('loads, shows the model and a live connection', async () => {
  const res = await page.goto(server.url + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /text\/html/);
  await page.waitForSelector('#conn[data-state="ok"]');
  const models = await (await fetch(server.url + '/v1/models')).json();
  await page.waitForFunction((id) => document.getElementById('model').textContent === id, models.data[0].id);
  // Labels for every control (accessibility).
  for (const id of ['prompt', 'system', 'temperature', 'max-tokens']) {
    assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `label for #${id}`);
  }
});

test('Enter sends, the reply streams in, Shift+Enter is a newline', async () => {
  await setSetting('#temperature', 0);
  await setSetting('#max-tokens', 16);
  const streamed = page.waitForResponse((r) => r.url().endsWith('/v1/chat/completions'));
  await page.fill('#prompt', 'line one');
  await page.press('#prompt', 'Shift+Enter');
  await page.type('#prompt', 'line two');
  assert.equal(await page.inputValue('#prompt'), 'line one\nline two');
  await page.press('#prompt', 'Enter');
  const res = await streamed;
  assert.match(res.headers()['content-type'], /text\/event-stream/);
  assert.equal(JSON.parse(res.request().postData()).stream, true);
  await page.waitForSelector('#send:not([hidden])');
  const user = await page.locator('.msg.user').last().textContent();
  assert.match(user, /line one\nline two/);
  assert.ok(await page.locator('.msg.assistant').last().isVisible(), 'reply shown');
  // What the page assembled from the stream (kept in localStorage) is exactly what the API
  // answers for the same conversation (greedy, same max tokens).
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('inference.chat.v1')));
  const reply = stored.messages.at(-1);
  assert.equal(reply.role, 'assistant');
  const api = await (await fetch(server.url + '/v1/chat/completions', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({messages: [{role: 'user', content: 'line one\nline two'}], temperature: 0, max_tokens: 16}),
  })).json();
  assert.equal(reply.content, api.choices[0].message.content);
  assert.match(await page.locator('#speed').textContent(), /tok\/s|^$/);
});

test('Stop cancels a reply mid-stream and frees the server slot', async () => {
  // A long reply (most of the slot's context), so the server would still be generating for
  // nobody if Stop did not really cancel: the generated-token count shows it.
  const maxTokens = (await waitSlotsIdle(server))[0].n_ctx / 2;  // leaves room for the prompt
  const tokensBefore = await metric(server, 'infer_generated_tokens_total');
  await setSetting('#max-tokens', maxTokens);
  // Stop is clicked from inside the page the moment the first words of the reply are shown, as a
  // person would: a check from the test process could come after a fast tiny model had finished.
  await page.evaluate(() => {
    const log = document.getElementById('messages');
    const observer = new MutationObserver(() => {
      const answer = log.querySelector('.msg.assistant.streaming .answer');
      if (answer && answer.textContent.trim()) {
        observer.disconnect();
        window.stopClickedAfter = answer.textContent.length;
        document.getElementById('stop').click();
      }
    });
    observer.observe(log, {childList: true, subtree: true, characterData: true});
  });
  await page.fill('#prompt', 'Tell me a very long story.');
  await page.press('#prompt', 'Enter');
  await page.waitForSelector('#send:not([hidden])');
  assert.equal(await page.locator('.msg.error').count(), 0,
               'error shown: ' + (await page.locator('.msg.error').allTextContents()).join());
  assert.ok(await page.evaluate(() => window.stopClickedAfter > 0), 'Stop was clicked mid-reply');
  assert.deepEqual(await page.locator('.msg.assistant').last().locator('.note').allTextContents(), ['(stopped)']);
  await waitSlotsIdle(server);
  const generated = (await metric(server, 'infer_generated_tokens_total')) - tokensBefore;
  assert.ok(generated >= 1 && generated < maxTokens, `generated ${generated} of ${maxTokens}`);
});

test('reload keeps the conversation (localStorage)', async () => {
  const shown = await page.locator('#messages .msg').allTextContents();
  assert.ok(shown.length >= 4);
  await page.reload();
  await page.waitForSelector('#conn[data-state="ok"]');
  assert.deepEqual(await page.locator('#messages .msg').allTextContents(), shown);
  assert.match(await page.inputValue('#max-tokens'), /^[1-9]\d*$/);
  assert.notEqual(await page.inputValue('#max-tokens'), '512');  // the setting, not the default
});

test('model output is never HTML; markdown and <think> render as elements', async () => {
  const hostile = '<think>plan **A**</think>Hi <img src=x onerror="window.pwned=1"> **bold** *it* `x<y`\n\n' +
                  '- one\n- two\n\n```html\n<script>window.pwned=2</script>\n```';
  await page.evaluate((content) => {
    localStorage.setItem('inference.chat.v1', JSON.stringify({
      messages: [{role: 'user', content: '<b>not bold</b>'}, {role: 'assistant', content}],
      settings: {temperature: 0, maxTokens: 16},
    }));
  }, hostile);
  await page.reload();
  await page.waitForSelector('.msg.assistant details.think');
  const shape = await page.evaluate(() => {
    const m = document.getElementById('messages');
    const a = m.querySelector('.msg.assistant');
    return {
      pwned: window.pwned ?? null,
      img: m.querySelectorAll('img').length,
      script: m.querySelectorAll('script').length,
      userBold: m.querySelectorAll('.msg.user b').length,
      strong: a.querySelector('.answer strong')?.textContent,
      em: a.querySelector('.answer em')?.textContent,
      code: a.querySelector('.answer p code')?.textContent,
      items: [...a.querySelectorAll('.answer ul li')].map((li) => li.textContent),
      pre: a.querySelector('.answer pre code')?.textContent,
      think: a.querySelector('details.think .think-body')?.textContent,
      thinkOpen: a.querySelector('details.think').open,
    };
  });
  assert.deepEqual(shape, {
    pwned: null, img: 0, script: 0, userBold: 0, strong: 'bold', em: 'it', code: 'x<y',
    items: ['one', 'two'], pre: '<script>window.pwned=2</script>', think: 'plan A', thinkOpen: false,
  });
  // The reasoning panel is collapsible: a click opens it.
  await page.click('.msg.assistant details.think summary');
  assert.equal(await page.evaluate(() => document.querySelector('details.think').open), true);
  assert.deepEqual(pageErrors, []);
});
