// Starts the real `infer serve` on a free loopback port for one test file and always stops it.
// The binary and model come from ctest (INFER_BIN, INFER_TEST_MODEL); see CMakeLists.txt.
import {spawn} from 'node:child_process';

export const INFER_BIN = process.env.INFER_BIN;
export const MODEL = process.env.INFER_TEST_MODEL;
const START_TIMEOUT_MS = 60_000;

const running = new Set();
// A test file that dies (uncaught error, assertion in a hook) must not leave a server behind.
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });

/**
 * Starts `infer serve MODEL --port 0 ...args` and resolves once it prints
 * "listening on http://127.0.0.1:PORT" on stderr. The caller stops it in a top-level
 * `after(() => server?.stop())` (an `after` registered inside a `before` hook would run as soon
 * as that hook ends); the process 'exit' handler above is the backstop.
 */
export async function startServer(args = [], {model = MODEL} = {}) {
  if (!INFER_BIN || !model) throw new Error('INFER_BIN and INFER_TEST_MODEL must be set (ctest sets them)');
  const proc = spawn(INFER_BIN, ['serve', model, '--host', '127.0.0.1', '--port', '0', ...args],
                     {stdio: ['ignore', 'ignore', 'pipe']});
  running.add(proc);
  let stderr = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    running.delete(proc);
    resolve({code, signal});
  }));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`infer serve did not start in ${START_TIMEOUT_MS} ms:\n${stderr}`)),
                             START_TIMEOUT_MS);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
      const m = stderr.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exited.then(({code, signal}) => {
      clearTimeout(timer);
      reject(new Error(`infer serve exited (code ${code}, signal ${signal}) before listening:\n${stderr}`));
    });
  });
  const server = {
    url,
    proc,
    stderr: () => stderr,
    exited,
    // SIGTERM drains in-flight requests; a server that does not exit in time is killed.
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return server;
}

/** GET url+path as JSON (throws on a non-2xx status). */
export async function getJson(server, path, headers = {}) {
  const res = await fetch(server.url + path, {headers});
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Polls GET /slots until no slot is processing; resolves with the slots, or rejects after
 * `timeoutMs` with the last answer. A bounded poll, not a timing assertion: a freed slot shows
 * up within one decode step, the bound only keeps a broken server from hanging the test.
 */
export async function waitSlotsIdle(server, timeoutMs = 10_000, headers = {}) {
  const deadline = Date.now() + timeoutMs;
  let slots;
  for (;;) {
    slots = await getJson(server, '/slots', headers);
    if (Array.isArray(slots) && slots.every((s) => !s.is_processing)) return slots;
    if (Date.now() > deadline) throw new Error('slots still busy: ' + JSON.stringify(slots));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of a Prometheus metric line `name{...} value` (sum over label sets), or undefined. */
export async function metric(server, name, headers = {}) {
  const res = await fetch(server.url + '/metrics', {headers});
  const text = await res.text();
  let sum;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/);
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}
