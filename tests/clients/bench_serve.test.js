// `infer bench-serve` against the real `infer serve`: a well-formed report whose counts add up,
// clients that hang up on purpose leave no busy slot, and bad arguments are usage errors.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {after, before, test} from 'node:test';

import {INFER_BIN, getJson, startServer, waitSlotsIdle} from './lib/serve.js';

let server;
before(async () => { server = await startServer(['-np', '2']); });
after(() => server?.stop());

function benchServe(...args) {
  const r = spawnSync(INFER_BIN, ['bench-serve', ...args], {encoding: 'utf8', timeout: 120_000});
  return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

test('report: every request completes, tokens and latencies add up', async () => {
  const r = benchServe(server.url, '--concurrency', '2', '--requests', '4', '--prompt-tokens', '8',
                       '--max-tokens', '6', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const models = await getJson(server, '/v1/models');
  assert.equal(report.model, models.data[0].id);
  assert.equal(report.endpoint, '/v1/chat/completions');
  assert.deepEqual([report.requests, report.completed, report.errors, report.disconnected], [4, 4, 0, 0]);
  // ignore_eos: every reply is exactly max_tokens long, as the server's usage says.
  assert.equal(report.mean_generated_tokens, 6);
  assert.ok(report.mean_prompt_tokens >= 8);
  assert.equal(report.ttft_ms.count, 4);
  assert.ok(report.itl_ms.count >= 4 && report.itl_ms.count <= 4 * 5);
  assert.ok(report.ttft_ms.p50 > 0 && report.ttft_ms.p50 <= report.ttft_ms.p99);
  assert.ok(report.generated_tok_per_s > 0 && report.requests_per_s > 0);
  assert.ok(Math.abs(report.generated_tok_per_s - 24 / report.wall_s) < 1e-6 * report.generated_tok_per_s + 1e-9);
});

test('completions endpoint and the text report', () => {
  const r = benchServe(server.url, '--endpoint', 'completions', '--requests', '2', '--max-tokens', '4',
                       '--warmup', '0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/v1\/completions/);
  assert.match(r.stdout, /requests 2 completed, 0 errors, 0 disconnected/);
  assert.match(r.stdout, /TTFT \(ms\)/);
});

test('clients that disconnect mid-stream leave every slot idle', async () => {
  const r = benchServe(server.url, '--concurrency', '2', '--requests', '6', '--max-tokens', '40',
                       '--disconnect-fraction', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.disconnected, 6);
  assert.equal(report.errors, 0);
  await waitSlotsIdle(server);
});

test('bad arguments are usage errors naming the problem', () => {
  for (const [args, what] of [[['ftp://127.0.0.1:1'], /only http/], [['http://127.0.0.1:0'], /port/],
                              [[server.url, '--concurrency', '0'], /--concurrency/],
                              [[server.url, '--max-tokens', '-1'], /--max-tokens/]]) {
    const r = benchServe(...args);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, what);
  }
});

test('a server that refuses every request fails the run (exit 1), naming the status', () => {
  const r = benchServe(server.url, '--requests', '1', '--warmup', '0', '--model', 'x', '--prompt-tokens',
                       '100000', '--max-tokens', '1', '--json');
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout);
  assert.equal(report.errors, 1);
  assert.match(report.first_error, /HTTP 4(00|13)/);
});
