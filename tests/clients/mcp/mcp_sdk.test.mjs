// The official MCP TypeScript SDK client, unmodified, against the real `infer mcp` on a tiny
// model, over stdio (the SDK spawns the server) and Streamable HTTP (we spawn it on a free
// loopback port): schemas, every tool, structuredContent against the output schemas, progress,
// cancellation, logging, resources, and bad arguments that must give tool or JSON-RPC errors
// while the session lives on.
//
// Environment: INFER (the infer binary), MODELS_DIR (a directory holding llama-Q8_0.gguf).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import Ajv from 'ajv';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const INFER = process.env.INFER;
const MODELS_DIR = process.env.MODELS_DIR;
assert.ok(INFER && MODELS_DIR, 'set INFER and MODELS_DIR');
const MODEL = path.join(MODELS_DIR, 'llama-Q8_0.gguf');
// -c 4096 so a long generation is long enough to be cancelled while it runs.
const SERVER_ARGS = ['mcp', MODEL, '-t', '1', '-c', '4096', '--models-dir', MODELS_DIR];
const TOOLS = ['ml_generate', 'ml_chat', 'ml_score', 'ml_probe', 'ml_classify', 'ml_status', 'ml_backends'];

const ajv = new Ajv({ strict: true, allowUnionTypes: true });

function newClient() {
  return new Client({ name: 'infer-mcp-test', version: '1.0.0' }, { capabilities: {} });
}

async function startHttpServer() {
  const child = spawn(INFER, [...SERVER_ARGS, '--transport', 'http', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const url = await new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 30000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => reject(new Error(`infer mcp exited (${code}): ${err}`)));
  });
  return { child, url, stdout: () => stdout };
}

function structured(result) {
  assert.equal(result.isError, false, JSON.stringify(result));
  assert.ok(result.structuredContent, 'structuredContent present');
  // The same result as text, for clients that only read content.
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return result.structuredContent;
}

function toolError(result, mention) {
  assert.equal(result.isError, true, JSON.stringify(result));
  const text = result.content[0].text;
  assert.match(text, mention);
  return text;
}

async function waitIdle(client) {
  for (let i = 0; i < 200; i++) {
    const status = structured(await client.callTool({ name: 'ml_status', arguments: {} }));
    if (!status.in_flight.some((c) => c.tool === 'ml_generate')) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('ml_generate still in flight after cancellation');
}

function suite(name, connect) {
  describe(name, () => {
    let client;
    let tools;
    let cleanup;
    const logs = [];

    before(async () => {
      client = newClient();
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
      cleanup = await connect(client);
    });
    after(async () => { await cleanup(); });

    test('negotiates the newest protocol revision and names itself', () => {
      assert.equal(client.getServerVersion().name, 'infer');
      assert.ok(client.getServerCapabilities().tools);
      assert.ok(client.getServerCapabilities().resources);
      assert.ok(client.getServerCapabilities().logging);
    });

    test('lists every tool with valid input and output schemas', async () => {
      tools = (await client.listTools()).tools;
      assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOLS].sort());
      for (const tool of tools) {
        assert.doesNotThrow(() => ajv.compile(tool.inputSchema), tool.name);
        assert.ok(tool.outputSchema, `${tool.name} has an output schema`);
        assert.doesNotThrow(() => ajv.compile(tool.outputSchema), tool.name);
      }
    });

    const check = (name, value) => {
      const validate = ajv.compile(tools.find((t) => t.name === name).outputSchema);
      assert.ok(validate(value), `${name}: ${ajv.errorsText(validate.errors)}`);
      return value;
    };

    test('ml_generate and ml_chat run the model', async () => {
      const gen = check('ml_generate', structured(await client.callTool({
        name: 'ml_generate', arguments: { prompt: 'Hello', max_tokens: 8 } })));
      assert.equal(gen.model, 'llama-Q8_0.gguf');
      assert.equal(gen.backend, 'native');
      assert.ok(gen.usage.completion_tokens >= 1 && gen.usage.completion_tokens <= 8);
      assert.ok(gen.usage.prompt_tokens >= 1);
      const chat = check('ml_chat', structured(await client.callTool({
        name: 'ml_chat',
        arguments: { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 4, stop: ['\n\n'] } })));
      assert.ok(chat.usage.completion_tokens <= 4);
      // By model id from the models directory too.
      const byId = check('ml_generate', structured(await client.callTool({
        name: 'ml_generate', arguments: { prompt: 'Hi', max_tokens: 2, model: 'llama-Q4_0.gguf', temperature: 0.7, seed: 3 } })));
      assert.equal(byId.model, 'llama-Q4_0.gguf');
    });

    test('ml_backends and ml_status describe the server', async () => {
      const backends = check('ml_backends', structured(await client.callTool({ name: 'ml_backends', arguments: {} })));
      assert.ok(backends.backends.some((b) => b.name === 'native' && b.available));
      assert.equal(backends.default, 'native');
      const status = check('ml_status', structured(await client.callTool({ name: 'ml_status', arguments: {} })));
      assert.ok(status.models.some((m) => m.id === 'llama-Q8_0.gguf'));
      assert.ok(status.recent.length >= 1);
      assert.ok(status.recent[0].decode_tokens_per_second >= 0);
    });

    test('scoring tools work or say the engine is not built in', async () => {
      const status = structured(await client.callTool({ name: 'ml_status', arguments: {} }));
      const calls = [
        ['ml_score', { prompt: 'What is 2+2?', response: 'It is 4.', suites: 'heuristic' }],
        ['ml_probe', { categories: ['math'], max_tokens: 8 }],
        ['ml_classify', { texts: ['How do I fix this segfault?'], labels: ['technical', 'casual'] }],
      ];
      for (const [name, args] of calls) {
        const result = await client.callTool({ name, arguments: args });
        if (status.scoring.built_in) check(name, structured(result));
        else toolError(result, /scoring engine not built in/);
      }
    });

    test('progress notifications arrive for a call with a progress token', async () => {
      // A long generation (greedy "Hello" runs for hundreds of tokens before its end token): the
      // SDK drops a progress notification that arrives in the same read as the call's result,
      // so the first must come well before the end.
      const seen = [];
      const result = await client.callTool(
        { name: 'ml_generate', arguments: { prompt: 'Hello', max_tokens: 4000 } },
        undefined, { onprogress: (p) => seen.push(p) });
      structured(result);
      assert.ok(seen.length >= 1, 'at least one progress notification');
      assert.ok(seen[0].progress >= 1);
      assert.equal(seen[0].total, 4000);
    });

    test('a cancelled ml_generate stops and the session goes on', async () => {
      const controller = new AbortController();
      const call = client.callTool(
        { name: 'ml_generate', arguments: { prompt: 'Hello', max_tokens: 4000 } },
        undefined, { signal: controller.signal, onprogress: () => controller.abort('test cancels') });
      await assert.rejects(call);
      await waitIdle(client);
      structured(await client.callTool({ name: 'ml_generate', arguments: { prompt: 'Hi', max_tokens: 2 } }));
    });

    test('bad arguments are tool errors, an unknown tool a JSON-RPC error', async () => {
      toolError(await client.callTool({ name: 'ml_generate', arguments: { prompt: 42 } }), /prompt: expected string/);
      toolError(await client.callTool({ name: 'ml_generate', arguments: {} }), /missing required field "prompt"/);
      toolError(await client.callTool({ name: 'ml_generate', arguments: { prompt: 'x', max_tokens: -1 } }), /max_tokens/);
      toolError(await client.callTool({ name: 'ml_chat', arguments: { messages: 'hi' } }), /messages: expected array/);
      toolError(await client.callTool({ name: 'ml_generate', arguments: { prompt: 'x', model: '../../etc/passwd' } }), /unknown model/);
      toolError(await client.callTool({ name: 'ml_classify', arguments: { texts: [] } }), /texts/);
      await assert.rejects(client.callTool({ name: 'ml_nothing', arguments: {} }),
        (e) => e instanceof McpError && e.code === -32602 && /unknown tool/.test(e.message));
      await client.ping();  // still alive
    });

    test('resources list and read the models it can see', async () => {
      const { resources } = await client.listResources();
      const q8 = resources.find((r) => r.name === 'llama-Q8_0.gguf');
      assert.ok(q8, JSON.stringify(resources.map((r) => r.name)));
      const { contents } = await client.readResource({ uri: q8.uri });
      const info = JSON.parse(contents[0].text);
      assert.equal(info.architecture, 'llama');
      assert.equal(info.quantization, 'Q8_0');
      assert.ok(info.size_bytes > 0);
      await assert.rejects(client.readResource({ uri: 'model://missing' }), (e) => e.code === -32002);
    });

    test('log notifications follow logging/setLevel', async () => {
      await client.setLoggingLevel('debug');
      structured(await client.callTool({ name: 'ml_generate', arguments: { prompt: 'Hi', max_tokens: 1 } }));
      // Notifications of a call precede its result on both transports.
      assert.ok(logs.some((l) => l.level === 'debug' && /ml_generate/.test(l.data)), JSON.stringify(logs));
      await client.setLoggingLevel('error');
    });
  });
}

suite('stdio', async (client) => {
  const transport = new StdioClientTransport({ command: INFER, args: SERVER_ARGS, stderr: 'pipe' });
  await client.connect(transport);
  return async () => { await client.close(); };
});

suite('streamable http', async (client) => {
  const server = await startHttpServer();
  const transport = new StreamableHTTPClientTransport(new URL(server.url));
  await client.connect(transport);
  assert.ok(transport.sessionId, 'the server named a session');
  return async () => {
    await transport.terminateSession();  // DELETE /mcp
    await client.close();
    const exited = new Promise((resolve) => server.child.on('exit', (code, signal) => resolve({ code, signal })));
    server.child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, 'infer mcp exits cleanly on SIGTERM');
    assert.equal(server.stdout(), '', 'nothing on stdout in HTTP mode');
  };
});
