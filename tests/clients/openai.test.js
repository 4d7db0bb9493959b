// The official OpenAI SDK, unmodified, against `infer serve`: what it parses must be what we send.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import OpenAI from 'openai';

import {metric, startServer, waitSlotsIdle} from './lib/serve.js';

// Small replies keep the suite fast; temperature 0 makes them comparable between calls.
const greedy = {temperature: 0, max_tokens: 12};

let server;
let client;
let modelId;

before(async () => {
  server = await startServer(['-np', '4']);
  client = new OpenAI({baseURL: server.url + '/v1', apiKey: 'unused', maxRetries: 0});
  const models = await client.models.list();
  modelId = models.data[0].id;
});
after(() => server?.stop());

async function collectChat(params) {
  const stream = await client.chat.completions.create({model: modelId, ...params, stream: true,
                                                       stream_options: {include_usage: true}});
  const out = {content: [], finish: [], usage: null, chunks: 0};
  for await (const chunk of stream) {
    out.chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices) {
      out.content[choice.index] = (out.content[choice.index] ?? '') + (choice.delta?.content ?? '');
      if (choice.finish_reason) out.finish[choice.index] = choice.finish_reason;
    }
  }
  return out;
}

// Token counts of two replies to the same request; cached_tokens may differ (the second one
// reuses the prefix the first left in its slot).
function sameCounts(a, b) {
  for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.equal(a[k], b[k], k);
}

function checkUsage(usage, maxTokens) {
  assert.ok(usage.prompt_tokens > 0, 'prompt_tokens > 0');
  assert.ok(usage.completion_tokens > 0 && usage.completion_tokens <= maxTokens, 'completion_tokens in 1..max');
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

// finish_reason must agree with the count: 'length' exactly when max_tokens was reached.
function checkFinish(reason, completionTokens, maxTokens) {
  assert.equal(reason, completionTokens >= maxTokens ? 'length' : 'stop');
}

describe('models', () => {
  test('list and retrieve', async () => {
    const list = await client.models.list();
    assert.ok(list.data.length >= 1);
    const m = list.data[0];
    assert.equal(m.object, 'model');
    assert.equal(typeof m.id, 'string');
    const one = await client.models.retrieve(m.id);
    assert.equal(one.id, m.id);
    assert.equal(one.object, 'model');
  });
});

describe('chat completions', () => {
  const messages = [{role: 'system', content: 'You are terse.'}, {role: 'user', content: 'Say hello.'}];

  test('non-streamed: message, usage, finish_reason', async () => {
    const r = await client.chat.completions.create({model: modelId, messages, ...greedy});
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    checkUsage(r.usage, greedy.max_tokens);
    checkFinish(r.choices[0].finish_reason, r.usage.completion_tokens, greedy.max_tokens);
  });

  test('streamed: same text as non-streamed, usage chunk, finish_reason', async () => {
    const whole = await client.chat.completions.create({model: modelId, messages, ...greedy});
    const s = await collectChat({messages, ...greedy});
    assert.ok(s.chunks > 1, 'several chunks');
    assert.equal(s.content[0], whole.choices[0].message.content);
    sameCounts(s.usage, whole.usage);
    assert.equal(s.finish[0], whole.choices[0].finish_reason);
  });

  test('content-part arrays and max_completion_tokens', async () => {
    const r = await client.chat.completions.create({
      model: modelId, temperature: 0, max_completion_tokens: 3,
      messages: [{role: 'user', content: [{type: 'text', text: 'Say'}, {type: 'text', text: ' hello.'}]}],
    });
    assert.ok(r.usage.completion_tokens <= 3);
  });

  test('n > 1: n choices, usage counts them all', async () => {
    const r = await client.chat.completions.create({model: modelId, messages, temperature: 1, seed: 7,
                                                    max_tokens: 6, n: 3});
    assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1, 2]);
    const s = await collectChat({messages, temperature: 1, seed: 7, max_tokens: 6, n: 3});
    assert.equal(s.finish.filter(Boolean).length, 3);
    assert.ok(r.usage.completion_tokens >= 3 && r.usage.completion_tokens <= 18);
  });

  test('logprobs with top_logprobs', async () => {
    const r = await client.chat.completions.create({model: modelId, messages, ...greedy, logprobs: true,
                                                    top_logprobs: 3});
    const content = r.choices[0].logprobs.content;
    assert.equal(content.length, r.usage.completion_tokens);
    for (const t of content) {
      assert.equal(typeof t.token, 'string');
      assert.ok(t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 3);
      // Greedy: the chosen token is the most likely one.
      assert.ok(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-4);
    }
    assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  });

  test('stop string ends the reply before it', async () => {
    const free = await client.chat.completions.create({model: modelId, messages, temperature: 0, max_tokens: 24});
    const text = free.choices[0].message.content;
    assert.ok(text.length >= 6, 'need some text to cut: ' + JSON.stringify(text));
    const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 2);
    const r = await client.chat.completions.create({model: modelId, messages, temperature: 0, max_tokens: 24,
                                                    stop: [stop, '\u0000never']});
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, text.slice(0, text.indexOf(stop)));
    const s = await collectChat({messages, temperature: 0, max_tokens: 24, stop});
    assert.equal(s.content[0], text.slice(0, text.indexOf(stop)));
    assert.equal(s.finish[0], 'stop');
  });
});

describe('completions', () => {
  const prompt = 'The quick brown fox';

  test('non-streamed and streamed agree; usage; echo', async () => {
    const r = await client.completions.create({model: modelId, prompt, ...greedy});
    assert.equal(r.object, 'text_completion');
    checkUsage(r.usage, greedy.max_tokens);
    checkFinish(r.choices[0].finish_reason, r.usage.completion_tokens, greedy.max_tokens);
    const stream = await client.completions.create({model: modelId, prompt, ...greedy, stream: true,
                                                    stream_options: {include_usage: true}});
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) text += c.text;
    }
    assert.equal(text, r.choices[0].text);
    sameCounts(usage, r.usage);
    const echoed = await client.completions.create({model: modelId, prompt, ...greedy, echo: true});
    assert.equal(echoed.choices[0].text, prompt + r.choices[0].text);
  });

  test('array of prompts and token-id prompts', async () => {
    const r = await client.completions.create({model: modelId, prompt: ['Hello', 'Goodbye'], ...greedy});
    assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1]);
    const ids = await client.completions.create({model: modelId, prompt: [15496, 995], temperature: 0, max_tokens: 2});
    assert.ok(ids.usage.prompt_tokens >= 2);
  });

  test('logprobs', async () => {
    const r = await client.completions.create({model: modelId, prompt, ...greedy, logprobs: 2});
    const lp = r.choices[0].logprobs;
    assert.equal(lp.tokens.length, r.usage.completion_tokens);
    assert.equal(lp.token_logprobs.length, lp.tokens.length);
    assert.ok(lp.token_logprobs.every((x) => x <= 0));
    assert.ok(lp.top_logprobs.every((o) => Object.keys(o).length >= 1 && Object.keys(o).length <= 2));
  });
});

describe('cancellation and concurrency', () => {
  test('abort mid-stream frees the slot, generation stops', async () => {
    const tokensBefore = await metric(server, 'infer_generated_tokens_total');
    assert.equal(typeof tokensBefore, 'number', 'the server reports infer_generated_tokens_total');
    // As long a reply as the slot's context allows, so that a server that kept generating for
    // nobody would show it in the token count.
    const slots = await waitSlotsIdle(server);
    const maxTokens = slots[0].n_ctx - 64;
    const stream = await client.chat.completions.create({
      model: modelId, messages: [{role: 'user', content: 'Count.'}], stream: true,
      temperature: 0, max_tokens: maxTokens,
    });
    let chunks = 0;
    let finished = false;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.finish_reason) finished = true;
      if (chunk.choices[0]?.delta?.content) chunks++;
      if (chunks === 2) {
        stream.controller.abort();  // closes the connection
        break;
      }
    }
    assert.equal(finished, false);
    await waitSlotsIdle(server);
    const generated = (await metric(server, 'infer_generated_tokens_total')) - tokensBefore;
    assert.ok(generated >= 2 && generated < maxTokens,
              `generated ${generated} of ${maxTokens} tokens for a client that left after 2`);
  });

  test('8 concurrent streams: all complete, each equal to its single-stream reply', async () => {
    const prompts = Array.from({length: 8}, (_, i) => `Story number ${i}:`);
    const alone = [];
    for (const p of prompts) {
      alone.push((await client.chat.completions.create({model: modelId, messages: [{role: 'user', content: p}],
                                                        ...greedy})).choices[0].message.content);
    }
    const together = await Promise.all(prompts.map((p) => collectChat({messages: [{role: 'user', content: p}],
                                                                       ...greedy})));
    together.forEach((r, i) => assert.equal(r.content[0], alone[i], `stream ${i}`));
    await waitSlotsIdle(server);
  });
});
