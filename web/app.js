// LEM Lab: the chat page served by `infer serve` at `/`. Plain DOM, no dependencies, no build
// step: the server embeds these files in its binary. Talks to the server's own OpenAI-compatible
// API (same origin), so it also works against any server that speaks /v1/chat/completions.
'use strict';

const STORE_KEY = 'inference.chat.v1';
const HEALTH_EVERY_MS = 5000;

const $ = (id) => document.getElementById(id);
const ui = {
  messages: $('messages'), form: $('composer'), prompt: $('prompt'), send: $('send'),
  stop: $('stop'), model: $('model'), speed: $('speed'), conn: $('conn'),
  connText: $('conn-text'), system: $('system'), temperature: $('temperature'),
  maxTokens: $('max-tokens'), apiKey: $('api-key'), clear: $('clear'),
};

// ---- state, kept in localStorage so a reload finds the conversation ----------------------------

const state = {
  messages: [],  // {role: 'user'|'assistant'|'error', content, stopped?}
  settings: {system: '', temperature: 0.7, maxTokens: 512, apiKey: ''},
  model: null,
};

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
    if (saved && Array.isArray(saved.messages)) {
      state.messages = saved.messages.filter(
          (m) => m && typeof m.content === 'string' && typeof m.role === 'string');
    }
    if (saved && saved.settings && typeof saved.settings === 'object') {
      Object.assign(state.settings, saved.settings);
    }
  } catch (e) {
    // A corrupt entry (another page, manual edit) must not brick the page: start afresh.
    console.warn('ignoring unreadable saved conversation', e);
  }
}

function save() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({messages: state.messages, settings: state.settings}));
  } catch (e) {
    console.warn('could not save the conversation', e);  // storage full or disabled
  }
}

// ---- minimal markdown, built as DOM nodes ------------------------------------------------------
// Model output is untrusted: nothing it says is ever parsed as HTML. Text only reaches the page
// through createTextNode/textContent, so the markup we recognise (code fences, inline code, bold,
// italic, lists) is the only markup there is.

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+?\*\*)|(__[^_\n]+?__)|(\*[^*\s][^*\n]*?\*)|(\b_[^_\n]+?_\b)/g;

function appendInline(parent, text) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
    const tok = m[0];
    let el;
    if (m[1]) {
      el = document.createElement('code');
      el.textContent = tok.slice(1, -1);
    } else if (m[2] || m[3]) {
      el = document.createElement('strong');
      appendInline(el, tok.slice(2, -2));
    } else {
      el = document.createElement('em');
      appendInline(el, tok.slice(1, -1));
    }
    parent.append(el);
    last = m.index + tok.length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

const LIST_ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

function renderMarkdown(text) {
  const root = document.createDocumentFragment();
  const lines = text.split('\n');
  let para = null;   // open <p>
  let list = null;   // open <ul>/<ol>
  const closeBlocks = () => { para = null; list = null; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^\s*```\s*([\w+.-]*)\s*$/);
    if (fence) {
      // Code fence: everything up to the closing fence (or the end, while still streaming).
      closeBlocks();
      const body = [];
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      if (fence[1]) code.dataset.lang = fence[1];
      code.textContent = body.join('\n');
      pre.append(code);
      root.append(pre);
      continue;
    }
    if (line.trim() === '') { closeBlocks(); continue; }
    const item = line.match(LIST_ITEM);
    if (item) {
      const tag = /\d/.test(item[1]) ? 'OL' : 'UL';
      if (!list || list.tagName !== tag) {
        list = document.createElement(tag);
        root.append(list);
      }
      para = null;
      const li = document.createElement('li');
      appendInline(li, item[2]);
      list.append(li);
      continue;
    }
    if (list && /^\s+\S/.test(line)) {  // continuation of the last list item
      appendInline(list.lastChild, ' ' + line.trim());
      continue;
    }
    list = null;
    if (!para) {
      para = document.createElement('p');
      root.append(para);
    } else {
      para.append(document.createElement('br'));
    }
    appendInline(para, line);
  }
  return root;
}

// Splits a reply into its reasoning (<think>…</think>, possibly still open while streaming) and
// its answer. A reply may also start inside a think block whose opening tag was in the prompt
// (some chat templates put it there): then everything before a lone </think> is reasoning.
function splitThink(text) {
  let think = '';
  let answer = '';
  let open = false;
  let rest = text;
  const firstOpen = rest.indexOf('<think>');
  const firstClose = rest.indexOf('</think>');
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) {
    think += rest.slice(0, firstClose);
    rest = rest.slice(firstClose + 8);
  }
  while (rest.length) {
    const s = rest.indexOf('<think>');
    if (s < 0) { answer += rest; break; }
    answer += rest.slice(0, s);
    const e = rest.indexOf('</think>', s + 7);
    if (e < 0) { think += rest.slice(s + 7); open = true; break; }
    think += rest.slice(s + 7, e);
    rest = rest.slice(e + 8);
  }
  return {think: think.trim(), answer: answer.replace(/^\s+/, ''), thinking: open};
}

// ---- rendering ---------------------------------------------------------------------------------

function fillBubble(el, msg, streaming) {
  const body = el.querySelector('.body');
  const previous = el.querySelector('details.think');
  body.replaceChildren();
  if (msg.role === 'assistant') {
    const {think, answer, thinking} = splitThink(msg.content);
    if (think || thinking) {
      const details = document.createElement('details');
      details.className = 'think';
      // Open by itself while the model thinks, closed again when the answer starts; once the
      // reader has toggled it, the reader's choice stays.
      if (previous && !previous.dataset.auto) {
        details.open = previous.open;
      } else {
        details.open = Boolean(streaming && thinking);
        details.dataset.auto = '1';
      }
      const summary = document.createElement('summary');
      summary.textContent = thinking && streaming ? 'Thinking…' : 'Reasoning';
      const inner = document.createElement('div');
      inner.className = 'think-body';
      inner.append(renderMarkdown(think));
      summary.addEventListener('click', () => delete details.dataset.auto);
      details.append(summary, inner);
      body.append(details);
    }
    const answerEl = document.createElement('div');
    answerEl.className = 'answer';
    answerEl.append(renderMarkdown(answer));
    body.append(answerEl);
    if (msg.stopped) {
      const note = document.createElement('div');
      note.className = 'note';
      note.textContent = '(stopped)';
      body.append(note);
    }
  } else {
    // The user's own words are shown as typed (no markdown), errors as plain text.
    body.textContent = msg.content;
  }
  el.classList.toggle('streaming', Boolean(streaming));
}

function bubbleFor(msg) {
  const el = document.createElement('article');
  el.className = 'msg ' + msg.role;
  const who = document.createElement('div');
  who.className = 'who';
  who.textContent = msg.role === 'user' ? 'You' : msg.role === 'assistant' ? 'Assistant' : 'Error';
  const body = document.createElement('div');
  body.className = 'body';
  el.append(who, body);
  fillBubble(el, msg, false);
  return el;
}

function renderAll() {
  ui.messages.replaceChildren(...state.messages.map(bubbleFor));
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function nearBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

// ---- server calls ------------------------------------------------------------------------------

function headers() {
  const h = {'Content-Type': 'application/json'};
  if (state.settings.apiKey) h.Authorization = 'Bearer ' + state.settings.apiKey;
  return h;
}

function setConn(kind, text) {
  ui.conn.dataset.state = kind;
  ui.connText.textContent = text;
}

async function pollHealth() {
  try {
    const res = await fetch('/health', {cache: 'no-store'});
    if (res.ok) {
      setConn('ok', 'connected');
      if (!state.model) await fetchModel();
    } else if (res.status === 503) {
      setConn('loading', 'loading model…');
    } else {
      setConn('error', 'server error ' + res.status);
    }
  } catch (e) {
    setConn('error', 'offline');
  }
}

async function fetchModel() {
  try {
    const res = await fetch('/v1/models', {headers: headers(), cache: 'no-store'});
    if (res.status === 401) { ui.model.textContent = 'API key needed (Settings)'; return; }
    if (!res.ok) return;
    const body = await res.json();
    const first = body && Array.isArray(body.data) && body.data[0];
    if (first && typeof first.id === 'string') {
      state.model = first.id;
      ui.model.textContent = first.id;
    }
  } catch (e) {
    // Health polling reports the connection; the name is fetched again once it is back.
  }
}

async function errorText(res) {
  const raw = await res.text();
  try {
    const j = JSON.parse(raw);
    if (j && j.error && j.error.message) return j.error.message;
  } catch (e) { /* not JSON: show the raw text */ }
  return `${res.status} ${res.statusText}${raw ? ': ' + raw.slice(0, 300) : ''}`;
}

// Reads an SSE body (text/event-stream): events separated by a blank line, payload in `data:`
// lines. Calls onData(string) per event; returns when the stream ends or at `data: [DONE]`.
async function readSse(body, onData) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
      const data = event.split(/\r?\n/)
                       .filter((l) => l.startsWith('data:'))
                       .map((l) => l.slice(5).replace(/^ /, ''))
                       .join('\n');
      if (!data) continue;
      if (data === '[DONE]') { reader.cancel().catch(() => {}); return; }
      onData(data);
    }
  }
}

let inflight = null;  // AbortController of the reply being streamed

async function sendMessage(text) {
  state.messages.push({role: 'user', content: text});
  const reply = {role: 'assistant', content: ''};
  state.messages.push(reply);
  save();
  renderAll();
  const el = ui.messages.lastChild;
  el.classList.add('streaming');

  const history = state.messages.filter((m) => m !== reply && (m.role === 'user' || m.role === 'assistant'))
                      .map((m) => ({role: m.role, content: m.content}));
  if (state.settings.system.trim()) history.unshift({role: 'system', content: state.settings.system});
  const request = {
    messages: history,
    stream: true,
    stream_options: {include_usage: true},
    temperature: Number(state.settings.temperature),
    max_tokens: Number(state.settings.maxTokens),
  };
  if (state.model) request.model = state.model;

  inflight = new AbortController();
  setBusy(true);
  let firstAt = 0;
  let chunks = 0;
  let usageTokens = 0;
  let paint = 0;
  let inReasoning = false;
  const repaint = () => {
    if (paint) return;
    paint = requestAnimationFrame(() => {
      paint = 0;
      const stick = nearBottom();
      fillBubble(el, reply, true);
      if (stick) ui.messages.scrollTop = ui.messages.scrollHeight;
    });
  };
  const showSpeed = (tokens) => {
    const secs = (performance.now() - firstAt) / 1000;
    if (tokens > 1 && secs > 0) ui.speed.textContent = ((tokens - 1) / secs).toFixed(1) + ' tok/s';
  };
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(request), signal: inflight.signal,
    });
    if (!res.ok) throw new Error(await errorText(res));
    ui.speed.textContent = '';
    await readSse(res.body, (data) => {
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || 'server error');
      if (chunk.usage && chunk.usage.completion_tokens) usageTokens = chunk.usage.completion_tokens;
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (!delta) return;
      // Servers that split reasoning out (reasoning_content) get it back in <think> form.
      let piece = '';
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) {
        if (!inReasoning) piece += '<think>';
        inReasoning = true;
        piece += delta.reasoning_content;
      }
      if (typeof delta.content === 'string' && delta.content) {
        if (inReasoning) piece += '</think>';
        inReasoning = false;
        piece += delta.content;
      }
      if (!piece) return;
      if (!firstAt) firstAt = performance.now();
      chunks++;
      reply.content += piece;
      showSpeed(chunks);
      repaint();
    });
    if (usageTokens) showSpeed(usageTokens);
  } catch (e) {
    if (e.name === 'AbortError') {
      reply.stopped = true;
    } else {
      state.messages.push({role: 'error', content: String(e.message || e)});
    }
  } finally {
    if (paint) cancelAnimationFrame(paint);
    paint = 0;
    if (!reply.content && !reply.stopped) state.messages.splice(state.messages.indexOf(reply), 1);
    inflight = null;
    setBusy(false);
    save();
    renderAll();
    ui.prompt.focus();
  }
}

function setBusy(busy) {
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  ui.send.disabled = busy;
  document.body.classList.toggle('busy', busy);
}

// ---- wiring ------------------------------------------------------------------------------------

function bindSetting(input, key, parse) {
  input.value = state.settings[key];
  input.addEventListener('change', () => {
    state.settings[key] = parse(input.value);
    save();
    if (key === 'apiKey') { state.model = null; fetchModel(); }
  });
}

function init() {
  load();
  bindSetting(ui.system, 'system', String);
  bindSetting(ui.temperature, 'temperature', (v) => Math.min(2, Math.max(0, Number(v) || 0)));
  bindSetting(ui.maxTokens, 'maxTokens', (v) => Math.max(1, Math.floor(Number(v)) || 512));
  bindSetting(ui.apiKey, 'apiKey', String);
  renderAll();

  // Settings apply on change; Enter in a settings field must not reload the page.
  $('settings-form').addEventListener('submit', (ev) => ev.preventDefault());
  ui.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.prompt.value.trim();
    if (!text || inflight) return;
    ui.prompt.value = '';
    sendMessage(text);
  });
  ui.prompt.addEventListener('keydown', (ev) => {
    // Enter sends; Shift+Enter (and Enter while an IME is composing) inserts a newline.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      ui.form.requestSubmit();
    }
  });
  // Aborting the fetch closes the connection; the server sees the disconnect and frees the slot.
  ui.stop.addEventListener('click', () => { if (inflight) inflight.abort(); });
  ui.clear.addEventListener('click', () => {
    if (inflight) inflight.abort();
    state.messages = [];
    save();
    renderAll();
  });

  pollHealth();
  setInterval(pollHealth, HEALTH_EVERY_MS);
  ui.prompt.focus();
}

init();
