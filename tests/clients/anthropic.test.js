// The official Anthropic SDK, unmodified, against `infer serve`'s Messages API.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';

import {startServer, waitSlotsIdle} from './lib/serve.js';

let server;
let client;
const model = 'served-model';  // the server serves one model whatever the name
const request = {
  model,
  max_tokens: 12,
  temperature: 0,
  system: 'You are terse.',
  messages: [{role: 'user', content: 'Say hello.'}],
};

before(async () => {
  server = await startServer(['-np', '2']);
  client = new Anthropic({baseURL: server.url, apiKey: 'unused', maxRetries: 0});
});
after(() => server?.stop());

test('messages: non-streamed reply, stop_reason, usage', async () => {
  const r = await client.messages.create(request);
  assert.equal(r.type, 'message');
  assert.equal(r.role, 'assistant');
  assert.equal(r.content[0].type, 'text');
  assert.equal(typeof r.content[0].text, 'string');
  assert.ok(r.usage.input_tokens > 0);
  assert.ok(r.usage.output_tokens > 0 && r.usage.output_tokens <= request.max_tokens);
  assert.equal(r.stop_reason, r.usage.output_tokens >= request.max_tokens ? 'max_tokens' : 'end_turn');
});

test('messages: streamed event sequence and text equal to the non-streamed reply', async () => {
  const whole = await client.messages.create(request);
  const stream = await client.messages.create({...request, stream: true});
  const types = [];
  let text = '';
  let stopReason = null;
  let outputTokens = null;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta') text += event.delta.text;
    if (event.type === 'message_delta') {
      stopReason = event.delta.stop_reason;
      outputTokens = event.usage.output_tokens;
    }
  }
  const core = types.filter((t) => t !== 'ping');
  assert.equal(core[0], 'message_start');
  assert.equal(core[1], 'content_block_start');
  assert.deepEqual(core.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  assert.ok(core.slice(2, -3).every((t) => t === 'content_block_delta'));
  assert.equal(text, whole.content[0].text);
  assert.equal(stopReason, whole.stop_reason);
  assert.equal(outputTokens, whole.usage.output_tokens);
  // The SDK's own helper assembles the same message.
  const final = await client.messages.stream(request).finalMessage();
  assert.equal(final.content[0].text, whole.content[0].text);
});

test('system as blocks, stop_sequences', async () => {
  const free = await client.messages.create({...request, max_tokens: 24});
  const text = free.content[0].text;
  assert.ok(text.length >= 6, 'need some text to cut: ' + JSON.stringify(text));
  const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2);
  const r = await client.messages.create({...request, max_tokens: 24, system: [{type: 'text', text: 'You are terse.'}],
                                          stop_sequences: [stop]});
  assert.equal(r.stop_reason, 'stop_sequence');
  assert.equal(r.stop_sequence, stop);
  assert.equal(r.content[0].text, text.slice(0, text.indexOf(stop)));
});

test('count_tokens equals the input_tokens of a real call', async () => {
  const counted = await client.messages.countTokens({model, system: request.system, messages: request.messages});
  const r = await client.messages.create(request);
  assert.equal(counted.input_tokens, r.usage.input_tokens);
  await waitSlotsIdle(server);
});
