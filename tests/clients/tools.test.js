// Tool calling and reasoning through the official OpenAI and Anthropic SDKs, unmodified, for
// each family's native call syntax: the random-weight test models with the families' own chat
// templates (../shared/testdata/templates). Whatever the weights, the grammar makes every call
// well-formed, so the checks are exact: SDK-parsed calls, streamed deltas reassembled by the
// SDKs equal to the non-streamed reply, forced calls, tool results fed back, 400 on bad history.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {after, before, describe, test} from 'node:test';
import OpenAI from 'openai';

import {startServer} from './lib/serve.js';

const DATA = process.env.INFERENCE_TESTDATA;
const FAMILIES = [
  {name: 'hermes (Qwen 2.5)', model: 'models/qwen2/qwen2-Q8_0.gguf', template: 'qwen2.5-7b-instruct.jinja'},
  {name: 'llama3 (Llama 3.1)', model: 'models/llama/llama-Q8_0.gguf', template: 'llama-3.1-8b-instruct.jinja'},
  {name: 'mistral (v0.3)', model: 'models/mistral/mistral-Q8_0.gguf', template: 'mistral-7b-instruct-v0.3.jinja'},
  {name: 'generic (Gemma 3)', model: 'models/gemma3/gemma3-Q4_K_M.gguf', template: 'gemma3-it.jinja'},
];

// Enums keep every call short whatever the random weights pick.
const CITIES = ['Paris', 'Rome'];
const weather = {
  type: 'object',
  properties: {city: {type: 'string', enum: CITIES}, unit: {type: 'string', enum: ['celsius', 'fahrenheit']}},
  required: ['city', 'unit'],
  additionalProperties: false,
};
const time = {type: 'object', properties: {utc: {type: 'boolean'}}, required: ['utc'], additionalProperties: false};
const openaiTools = [
  {type: 'function', function: {name: 'get_weather', description: 'Weather in a city', parameters: weather}},
  {type: 'function', function: {name: 'get_time', description: 'The time', parameters: time}},
];
const anthropicTools = [
  {name: 'get_weather', description: 'Weather in a city', input_schema: weather},
  {name: 'get_time', description: 'The time', input_schema: time},
];
const ask = [{role: 'user', content: 'What is the weather in Paris?'}];
const base = {temperature: 0, seed: 7, max_tokens: 160, parallel_tool_calls: false};

function checkArguments(name, args) {
  if (name === 'get_weather') {
    assert.ok(CITIES.includes(args.city), JSON.stringify(args));
    assert.ok(['celsius', 'fahrenheit'].includes(args.unit), JSON.stringify(args));
    assert.deepEqual(Object.keys(args).sort(), ['city', 'unit']);
  } else {
    assert.equal(name, 'get_time');
    assert.equal(typeof args.utc, 'boolean');
  }
}

// An OpenAI tool call exactly as the API specifies it.
function checkOpenAiCall(call) {
  assert.equal(call.type, 'function');
  assert.equal(typeof call.id, 'string');
  assert.ok(call.id.length > 0);
  assert.equal(typeof call.function.arguments, 'string', 'arguments is a JSON string');
  checkArguments(call.function.name, JSON.parse(call.function.arguments));
}

for (const family of FAMILIES) {
  describe(`OpenAI tools: ${family.name}`, () => {
    let server;
    let client;
    before(async () => {
      server = await startServer(['-np', '2', '-c', '2048', '--chat-template-file', join(DATA, 'templates', family.template)],
                                 {model: join(DATA, family.model)});
      client = new OpenAI({baseURL: server.url + '/v1', apiKey: 'unused', maxRetries: 0});
    });
    after(() => server?.stop());

    const create = (extra) => client.chat.completions.create({model: 'm', messages: ask, tools: openaiTools, ...base, ...extra});

    test('required: one well-formed call, finish_reason tool_calls', async () => {
      const r = await create({tool_choice: 'required'});
      const m = r.choices[0].message;
      assert.equal(r.choices[0].finish_reason, 'tool_calls');
      assert.equal(m.content, null);
      assert.equal(m.tool_calls.length, 1);
      checkOpenAiCall(m.tool_calls[0]);
    });

    test('streamed call reassembled by the SDK equals the non-streamed one', async () => {
      const whole = await create({tool_choice: 'required'});
      const stream = client.chat.completions.stream({model: 'm', messages: ask, tools: openaiTools, ...base,
                                                     tool_choice: 'required'});
      let first = null;
      let fragments = 0;
      for await (const chunk of stream) {
        for (const d of chunk.choices[0]?.delta?.tool_calls ?? []) {
          if (!first) first = d;
          else if (d.function?.arguments) fragments++;
        }
      }
      // OpenAI's shape: id, type and name in the first delta, arguments in later fragments.
      assert.ok(first.id && first.function.name && first.type === 'function', JSON.stringify(first));
      assert.ok(fragments >= 1);
      const final = await stream.finalChatCompletion();
      const got = final.choices[0].message.tool_calls;
      const want = whole.choices[0].message.tool_calls;
      assert.equal(got.length, want.length);
      assert.equal(got[0].function.name, want[0].function.name);
      assert.equal(got[0].function.arguments, want[0].function.arguments);
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      checkOpenAiCall(got[0]);
    });

    test('named function: the model must call that one', async () => {
      const r = await create({tool_choice: {type: 'function', function: {name: 'get_time'}}});
      const calls = r.choices[0].message.tool_calls;
      assert.equal(calls.length, 1);
      assert.equal(calls[0].function.name, 'get_time');
      checkOpenAiCall(calls[0]);
    });

    test('auto: text or well-formed calls, never a broken call', async () => {
      for (const seed of [1, 2, 3]) {
        const r = await create({tool_choice: 'auto', temperature: 1, seed});
        const c = r.choices[0];
        if (c.message.tool_calls?.length) {
          assert.equal(c.finish_reason, 'tool_calls');
          c.message.tool_calls.forEach(checkOpenAiCall);
        } else {
          assert.equal(typeof c.message.content, 'string');
          assert.ok(['stop', 'length'].includes(c.finish_reason));
        }
      }
    });

    test('tool results fed back continue the conversation', async () => {
      const call = (await create({tool_choice: 'required'})).choices[0].message.tool_calls[0];
      const r = await client.chat.completions.create({
        model: 'm', tools: openaiTools, ...base, max_tokens: 8, tool_choice: 'none',
        messages: [...ask, {role: 'assistant', content: null, tool_calls: [call]},
                   {role: 'tool', tool_call_id: call.id, content: '{"temperature": 18}'}],
      });
      assert.equal(typeof r.choices[0].message.content, 'string');
      assert.equal(r.choices[0].message.tool_calls, undefined);
      assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    });

    test('malformed tool history is a 400 naming the message', async () => {
      await assert.rejects(
          client.chat.completions.create({model: 'm', tools: openaiTools, ...base,
                                          messages: [...ask, {role: 'tool', tool_call_id: 'nope', content: 'x'}]}),
          (e) => e.status === 400 && /messages\[1\]\.tool_call_id/.test(e.message));
      await assert.rejects(
          client.chat.completions.create({model: 'm', tools: openaiTools, ...base, messages: [...ask, {
            role: 'assistant', content: null,
            tool_calls: [{id: 'c1', type: 'function', function: {name: 'get_time', arguments: '[1]'}}]}]}),
          (e) => e.status === 400 && /messages\[1\]\.tool_calls\[0\]\.function\.arguments/.test(e.message));
    });
  });
}

describe('Anthropic tools: hermes (Qwen 2.5)', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer(['-c', '2048', '--chat-template-file', join(DATA, 'templates', 'qwen2.5-7b-instruct.jinja')],
                               {model: join(DATA, 'models/qwen2/qwen2-Q8_0.gguf')});
    client = new Anthropic({baseURL: server.url, apiKey: 'unused', maxRetries: 0});
  });
  after(() => server?.stop());
  const request = {model: 'm', max_tokens: 160, temperature: 0, messages: ask, tools: anthropicTools,
                   tool_choice: {type: 'any', disable_parallel_tool_use: true}};

  function checkToolUse(block) {
    assert.equal(block.type, 'tool_use');
    assert.ok(block.id.startsWith('toolu_'));
    assert.equal(typeof block.input, 'object');
    checkArguments(block.name, block.input);
  }

  test('any: a tool_use block, stop_reason tool_use', async () => {
    const r = await client.messages.create(request);
    assert.equal(r.stop_reason, 'tool_use');
    const uses = r.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1);
    checkToolUse(uses[0]);
  });

  test('streamed input_json_delta reassembled by the SDK equals the non-streamed call', async () => {
    const whole = await client.messages.create(request);
    const stream = client.messages.stream(request);
    let deltas = 0;
    stream.on('streamEvent', (e) => { if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') deltas++; });
    const final = await stream.finalMessage();
    assert.ok(deltas >= 1);
    assert.equal(final.stop_reason, 'tool_use');
    const got = final.content.filter((b) => b.type === 'tool_use');
    const want = whole.content.filter((b) => b.type === 'tool_use');
    assert.equal(got.length, 1);
    assert.equal(got[0].name, want[0].name);
    assert.deepEqual(got[0].input, want[0].input);
    checkToolUse(got[0]);
  });

  test('tool choice by name, and the tool_result fed back', async () => {
    const r = await client.messages.create({...request, tool_choice: {type: 'tool', name: 'get_weather'}});
    const use = r.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    const next = await client.messages.create({
      ...request, max_tokens: 8, tool_choice: {type: 'none'},
      messages: [...ask, {role: 'assistant', content: r.content},
                 {role: 'user', content: [{type: 'tool_result', tool_use_id: use.id, content: '18 C'}]}],
    });
    assert.ok(['end_turn', 'max_tokens'].includes(next.stop_reason));
    assert.equal(next.content[0].type, 'text');
  });

  test('a tool_result for an unknown call is a 400 naming the block', async () => {
    await assert.rejects(
        client.messages.create({...request, messages: [...ask, {role: 'assistant', content: 'ok'},
          {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_x', content: 'r'}]}]}),
        (e) => e.status === 400 && /messages\[2\]\.content\[0\]\.tool_use_id/.test(e.message));
  });
});

// A reasoning template (DeepSeek-R1) and a grammar that makes the reply think first: the
// <think> block comes back apart from the answer, streamed and whole.
describe('reasoning: <think> separated from the answer', () => {
  let server;
  let openai;
  before(async () => {
    server = await startServer(['-c', '2048', '--chat-template-file', join(DATA, 'templates', 'deepseek-r1-distill-qwen-32b.jinja')],
                               {model: join(DATA, 'models/qwen2/qwen2-Q8_0.gguf')});
    openai = new OpenAI({baseURL: server.url + '/v1', apiKey: 'unused', maxRetries: 0});
  });
  after(() => server?.stop());
  const body = {model: 'm', messages: ask, max_tokens: 40, temperature: 0,
                grammar: 'root ::= "<think>" [a-z ]{1,12} "</think>" "Done."'};

  test('OpenAI reasoning_content, whole and streamed', async () => {
    const r = await openai.chat.completions.create(body);
    const m = r.choices[0].message;
    assert.match(m.reasoning_content, /^[a-z ]{1,12}$/);
    assert.equal(m.content, 'Done.');
    const stream = await openai.chat.completions.create({...body, stream: true});
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      reasoning += chunk.choices[0]?.delta?.reasoning_content ?? '';
      content += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(reasoning, m.reasoning_content);
    assert.equal(content, 'Done.');
  });
});

// response_format and llama.cpp's grammar / json_schema fields on the default test model.
describe('structured output through the APIs', () => {
  let server;
  let openai;
  before(async () => {
    server = await startServer();
    openai = new OpenAI({baseURL: server.url + '/v1', apiKey: 'unused', maxRetries: 0});
  });
  after(() => server?.stop());
  const schema = {
    type: 'object',
    properties: {name: {type: 'string', maxLength: 8}, age: {type: 'integer'}, ok: {type: 'boolean'}},
    required: ['name', 'age', 'ok'],
    additionalProperties: false,
  };
  function checkPerson(text) {
    const v = JSON.parse(text);
    // Key order is not checked: the server re-serialises response_format schemas with sorted
    // keys (a known gap, docs/server.md), so properties come alphabetically.
    assert.deepEqual(Object.keys(v).sort(), ['age', 'name', 'ok']);
    assert.equal(typeof v.name, 'string');
    assert.ok(Number.isInteger(v.age));
    assert.equal(typeof v.ok, 'boolean');
  }

  test('response_format json_schema (strict) and json_object', async () => {
    for (const seed of [1, 2]) {
      const r = await openai.chat.completions.create({
        model: 'm', messages: ask, temperature: 1, seed, max_tokens: 200,
        response_format: {type: 'json_schema', json_schema: {name: 'person', schema, strict: true}},
      });
      assert.equal(r.choices[0].finish_reason, 'stop');
      checkPerson(r.choices[0].message.content);
    }
    const any = await openai.chat.completions.create({model: 'm', messages: ask, temperature: 0, max_tokens: 200,
                                                      response_format: {type: 'json_object'}});
    if (any.choices[0].finish_reason === 'stop') JSON.parse(any.choices[0].message.content);
  });

  test('an unsupported schema keyword is a 400 naming it', async () => {
    await assert.rejects(
        openai.chat.completions.create({model: 'm', messages: ask, max_tokens: 5, response_format: {
          type: 'json_schema', json_schema: {name: 'x', schema: {type: 'string', not: {const: 'a'}}}}}),
        (e) => e.status === 400 && /'not'/.test(e.message));
  });

  test('llama.cpp json_schema on /completion and grammar on chat', async () => {
    const res = await fetch(server.url + '/completion', {method: 'POST', body: JSON.stringify(
        {prompt: 'Person:', n_predict: 200, temperature: 0, json_schema: schema})});
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.stop_type, 'eos');
    checkPerson(body.content);
    const r = await openai.chat.completions.create({model: 'm', messages: ask, temperature: 1, seed: 3,
                                                    max_tokens: 20, grammar: 'root ::= ("yes" | "no") "."'});
    assert.match(r.choices[0].message.content, /^(yes|no)\.$/);
  });
});
