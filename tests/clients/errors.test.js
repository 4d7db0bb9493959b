// Every bad-request class reaches the official SDKs as their own error type, with an error body
// in the API's own shape that names what is wrong.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import OpenAI from 'openai';

import {metric, startServer, waitSlotsIdle} from './lib/serve.js';

const KEY = 'test-key-123';
let server;
let openai;
let anthropic;
let modelId;

before(async () => {
  server = await startServer(['-np', '2', '--api-key', KEY]);
  openai = new OpenAI({baseURL: server.url + '/v1', apiKey: KEY, maxRetries: 0});
  anthropic = new Anthropic({baseURL: server.url, apiKey: KEY, maxRetries: 0});
  modelId = (await openai.models.list()).data[0].id;
});
after(() => server?.stop());

const user = [{role: 'user', content: 'Hi'}];

// Asserts that `promise` rejects with SDK error class `cls`, HTTP `status`, and a message that
// mentions every string in `mentions`.
async function rejectsWith(promise, cls, status, mentions = []) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, status);
    for (const m of mentions) assert.match(e.message, new RegExp(m), `message names ${m}`);
    return true;
  });
}

describe('OpenAI error classes', () => {
  test('wrong key: AuthenticationError (401); /health needs none', async () => {
    const bad = new OpenAI({baseURL: server.url + '/v1', apiKey: 'wrong', maxRetries: 0});
    await rejectsWith(bad.models.list(), OpenAI.AuthenticationError, 401);
    await rejectsWith(bad.chat.completions.create({model: modelId, messages: user, max_tokens: 2}),
                      OpenAI.AuthenticationError, 401);
    const health = await fetch(server.url + '/health');
    assert.equal(health.status, 200);
  });

  test('wrong types and values: BadRequestError (400) naming the field', async () => {
    const cases = [
      [{messages: 'hello'}, 'messages'],
      [{messages: [{role: 'wizard', content: 'x'}]}, 'role'],
      [{messages: user, max_tokens: -5}, 'max_tokens'],
      [{messages: user, temperature: 'hot'}, 'temperature'],
      [{messages: user, n: 0}, '\\bn\\b'],
      [{messages: user, top_p: 7}, 'top_p'],
      [{messages: user, top_logprobs: 1000, logprobs: true}, 'top_logprobs'],
      [{messages: user, stop: 42}, 'stop'],
      [{messages: []}, 'messages'],
    ];
    for (const [body, field] of cases) {
      await rejectsWith(openai.chat.completions.create({model: modelId, max_tokens: 2, ...body}),
                        OpenAI.BadRequestError, 400, [field]);
    }
    await rejectsWith(openai.completions.create({model: modelId, prompt: {not: 'a prompt'}, max_tokens: 2}),
                      OpenAI.BadRequestError, 400, ['prompt']);
  });

  test('prompt + max_tokens over the context: 400 context_length_exceeded naming both', async () => {
    await assert.rejects(openai.chat.completions.create({model: modelId, messages: user, max_tokens: 10_000_000}),
                         (e) => {
                           assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
                           assert.equal(e.code, 'context_length_exceeded');
                           assert.match(e.message, /10000000/);
                           assert.match(e.message, /\b512\b/);  // the model's context
                           return true;
                         });
  });

  test('unknown model and endpoints: NotFoundError (404)', async () => {
    await rejectsWith(openai.models.retrieve('no-such-model'), OpenAI.NotFoundError, 404);
    await rejectsWith(openai.embeddings.create({model: modelId, input: 'x'}), OpenAI.NotFoundError, 404);
  });

  test('malformed JSON: 400 with an OpenAI error object', async () => {
    const res = await fetch(server.url + '/v1/chat/completions', {
      method: 'POST', body: '{"messages": [', headers: {'Content-Type': 'application/json', Authorization: `Bearer ${KEY}`},
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(typeof body.error.message, 'string');
    assert.equal(typeof body.error.type, 'string');
  });

  test('oversized body: 413 as the SDK\'s APIError', async () => {
    const huge = 'a'.repeat(9 << 20);  // over the default 8 MiB limit
    await rejectsWith(openai.chat.completions.create({model: modelId, messages: [{role: 'user', content: huge}],
                                                      max_tokens: 1}),
                      OpenAI.APIError, 413, ['limit']);
  });
});

describe('admission control', () => {
  let small;
  before(async () => { small = await startServer(['-np', '1', '--max-queue', '1']); });
  after(() => small?.stop());

  test('queue full: RateLimitError (429) with Retry-After', async () => {
    const client = new OpenAI({baseURL: small.url + '/v1', apiKey: 'unused', maxRetries: 0});
    const long = {model: modelId, messages: user, temperature: 0, max_tokens: 400, stream: true};
    // One request holds the only slot (it has streamed a token), one waits in the queue...
    const holder = await client.chat.completions.create(long);
    const it = holder[Symbol.asyncIterator]();
    await it.next();
    const queued = client.chat.completions.create({...long, stream: false, max_tokens: 4}).catch((e) => e);
    for (let i = 0; (await metric(small, 'infer_queue_depth')) !== 1; i++) {
      assert.ok(i < 200, 'the second request never showed in infer_queue_depth');
      await new Promise((r) => setTimeout(r, 25));
    }
    // ...so a third is refused, not queued without bound.
    await assert.rejects(client.chat.completions.create({...long, stream: false, max_tokens: 4}).asResponse(), (e) => {
      assert.ok(e instanceof OpenAI.RateLimitError, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, 429);
      assert.match(e.headers.get('retry-after') ?? '', /^\d+$/);
      return true;
    });
    holder.controller.abort();
    await queued;
    await waitSlotsIdle(small);
  });
});

describe('Anthropic error classes', () => {
  test('wrong x-api-key: AuthenticationError (401)', async () => {
    const bad = new Anthropic({baseURL: server.url, apiKey: 'wrong', maxRetries: 0});
    await rejectsWith(bad.messages.create({model: modelId, max_tokens: 2, messages: user}),
                      Anthropic.AuthenticationError, 401);
  });

  test('missing max_tokens, bad role, bad types: BadRequestError with an Anthropic error body', async () => {
    const cases = [
      [{messages: user}, 'max_tokens'],
      [{messages: [{role: 'system', content: 'x'}], max_tokens: 2}, 'role'],
      [{messages: user, max_tokens: 2, temperature: 'warm'}, 'temperature'],
      [{messages: 'hi', max_tokens: 2}, 'messages'],
    ];
    for (const [body, field] of cases) {
      await assert.rejects(anthropic.messages.create({model: modelId, ...body}), (e) => {
        assert.ok(e instanceof Anthropic.BadRequestError, `${e.constructor.name}: ${e.message}`);
        assert.equal(e.status, 400);
        assert.equal(e.error.type, 'error');
        assert.equal(e.error.error.type, 'invalid_request_error');
        assert.match(e.error.error.message, new RegExp(field));
        return true;
      });
    }
  });
});
