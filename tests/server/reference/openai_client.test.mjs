// End-to-end tests of `llama4 serve` through the official OpenAI client: the real server binary is
// started on a free loopback port with a demo model it writes itself, and stopped with SIGTERM at
// the end (which must end in-flight streams cleanly and exit 0).
//
// Environment: LLAMA4_BIN (the built `llama4` program). Run: node --test openai_client.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";

const BIN = process.env.LLAMA4_BIN;
const CONCURRENT_CLIENTS = 16;
const LOAD_REQUESTS = 64;
const LOAD_TIME_CAP_MS = 120_000;
// Resident memory after the load test: within 5% of before. A sanitized build's allocator keeps
// its own caches (and the scripts mark such builds with LLAMA4_SANITIZED), so it gets more room.
const RSS_GROWTH_LIMIT = process.env.LLAMA4_SANITIZED ? 0.25 : 0.05;
const START_TIMEOUT_MS = 60_000;

let modelDir;
const servers = [];

// In a sanitized build, AddressSanitizer keeps freed memory in a quarantine of up to 256 MiB,
// which would read as resident-memory growth in the load test; a small quarantine keeps the
// measurement about the server's own allocations.
function serverEnvironment() {
  const env = { ...process.env };
  if (env.ASAN_OPTIONS !== undefined) env.ASAN_OPTIONS = `${env.ASAN_OPTIONS}:quarantine_size_mb=1`;
  return env;
}

// Starts `llama4 serve` on port 0 and resolves once it has printed the port it bound.
function startServer(extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ["serve", "-m", modelDir, "--port", "0", "-q", ...extraArgs], {
      stdio: ["ignore", "ignore", "pipe"],
      env: serverEnvironment(),
    });
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), START_TIMEOUT_MS);
    child.stderr.on("data", (data) => {
      stderr += data.toString();
      const match = stderr.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
      if (match && !child.port) {
        clearTimeout(timer);
        child.port = Number(match[1]);
        child.baseURL = `http://127.0.0.1:${child.port}`;
        child.exitCode_ = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
        servers.push(child);
        resolve(child);
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
}

async function stopServer(child) {
  child.kill("SIGTERM");
  return child.exitCode_;
}

const clientFor = (server, apiKey = "none") =>
  new OpenAI({ baseURL: `${server.baseURL}/v1`, apiKey, maxRetries: 0, timeout: 600_000 });

async function metric(server, name) {
  const text = await (await fetch(`${server.baseURL}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return Number(line.split(" ")[1]);
}

async function waitFor(condition, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

// logit_bias that bans the demo model's end tokens, so a request runs for its whole budget.
function endTokenBans() {
  const config = JSON.parse(readFileSync(join(modelDir, "generation_config.json"), "utf8"));
  return Object.fromEntries([config.eos_token_id].flat().map((id) => [String(id), -100]));
}

const residentKiB = (pid) =>
  Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);

let server;
let client;
let model;

before(async () => {
  assert.ok(BIN, "LLAMA4_BIN must name the llama4 program");
  modelDir = mkdtempSync(join(tmpdir(), "llama4-serve-test-"));
  execFileSync(BIN, ["make-demo", "-o", modelDir], { stdio: "ignore" });
  server = await startServer(["--parallel", String(CONCURRENT_CLIENTS), "-c", "512"]);
  client = clientFor(server);
  model = modelDir.split("/").pop();
});

after(async () => {
  for (const s of servers) if (s.exitCode === null) s.kill("SIGKILL");
  rmSync(modelDir, { recursive: true, force: true });
});

const greedyChat = (content, max_tokens, extra = {}) =>
  client.chat.completions.create({
    model,
    messages: [{ role: "user", content }],
    max_tokens,
    temperature: 0,
    ...extra,
  });

test("models list names the served model", async () => {
  const list = await client.models.list();
  const ids = [];
  for await (const m of list) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test("chat completion: shape, usage, and the same text as `llama4 generate --temp 0`", async () => {
  const maxTokens = 16;
  const r = await greedyChat("Hello", maxTokens);
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.object, "chat.completion");
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, "assistant");
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= maxTokens);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  const cli = JSON.parse(
    execFileSync(BIN, ["generate", "-m", modelDir, "-p", "Hello", "--temp", "0", "-n", String(maxTokens),
                       "--json", "-q"], { encoding: "utf8" }));
  assert.equal(r.choices[0].message.content, cli.text);
  assert.equal(r.usage.completion_tokens, cli.ids.length);
});

test("streamed chat equals the whole answer and ends with finish_reason and usage", async () => {
  const whole = await greedyChat("Tell me a story", 12);
  const stream = await greedyChat("Tell me a story", 12, {
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

test("text completion and list-of-parts content", async () => {
  const r = await client.completions.create({ model, prompt: "The model reads", max_tokens: 6, temperature: 0 });
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.object, "text_completion");
  assert.equal(typeof r.choices[0].text, "string");
  assert.equal(r.usage.completion_tokens, 6);
  const parts = await client.chat.completions.create({
    model,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hello" }] },
    ],
    max_tokens: 4,
    temperature: 0,
  });
  assert.equal(parts.choices[0].message.role, "assistant");
});

test(`${CONCURRENT_CLIENTS} concurrent clients get their single-request results, faster in total`, async () => {
  const prompts = Array.from({ length: CONCURRENT_CLIENTS }, (_, i) => ({
    content: `Question ${i}${"?".repeat(i % 4)} about the ship`,
    max: 8 + ((i * 5) % 13),
  }));
  const alone = [];
  let aloneTokens = 0;
  let started = Date.now();
  for (const p of prompts) {
    const r = await greedyChat(p.content, p.max);
    alone.push(r.choices[0].message.content);
    aloneTokens += r.usage.completion_tokens;
  }
  const aloneSeconds = (Date.now() - started) / 1000;
  started = Date.now();
  const results = await Promise.all(prompts.map((p) => greedyChat(p.content, p.max)));
  const batchedSeconds = (Date.now() - started) / 1000;
  let batchedTokens = 0;
  results.forEach((r, i) => {
    assert.equal(r.choices[0].message.content, alone[i], `client ${i}`);
    batchedTokens += r.usage.completion_tokens;
  });
  const ratio = batchedTokens / batchedSeconds / (aloneTokens / aloneSeconds);
  console.log(`[throughput] ${CONCURRENT_CLIENTS} concurrent: ${(batchedTokens / batchedSeconds).toFixed(1)} tok/s, ` +
              `one at a time: ${(aloneTokens / aloneSeconds).toFixed(1)} tok/s, ratio ${ratio.toFixed(2)}`);
  assert.ok(ratio > 1, `batched throughput ratio ${ratio}`);
});

test("a client that disconnects mid-stream frees its slot", async () => {
  const stream = await greedyChat("A long answer please", 400, { stream: true });
  let chunks = 0;
  try {
    for await (const _ of stream) {
      // Abort and stop reading: chunks the client already buffered would otherwise keep coming.
      if (++chunks === 3) {
        stream.controller.abort();
        break;
      }
    }
  } catch (e) {
    // the abort surfaces as an error in the loop
  }
  assert.equal(chunks, 3);
  assert.ok(await waitFor(async () => (await metric(server, "llama4_active_slots")) === 0),
            "the slot was not freed");
  assert.ok((await metric(server, "llama4_generated_tokens_total")) > 0);
});

test("errors: statuses and OpenAI error bodies", async () => {
  await assert.rejects(greedyChat("x", 4, { temperature: 9 }), (e) => e.status === 400 && e.error?.param === "temperature");
  await assert.rejects(
    client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    (e) => e.status === 404 && e.code === "model_not_found");
  await assert.rejects(greedyChat("x", 4, { n: 3 }), (e) => e.status === 400);
  const long = "word ".repeat(2000);
  await assert.rejects(greedyChat(long, 4), (e) => e.status === 400 && e.code === "context_length_exceeded");
  const bad = await fetch(`${server.baseURL}/v1/chat/completions`, { method: "POST", body: "{oops" });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.type, "invalid_request_error");
  const wrongMethod = await fetch(`${server.baseURL}/v1/completions`);
  assert.equal(wrongMethod.status, 405);
  const noRoute = await fetch(`${server.baseURL}/v2/everything`);
  assert.equal(noRoute.status, 404);
  assert.ok((await noRoute.json()).error.message.length > 0);
  const huge = await fetch(`${server.baseURL}/v1/completions`, { method: "POST", body: "x".repeat(9 * 1024 * 1024) });
  assert.equal(huge.status, 413);
});

test("API key enforced; queue full gives 503 with Retry-After", async () => {
  const keyed = await startServer(["--api-key", "s3cret", "--parallel", "1", "--max-queue", "1"]);
  await assert.rejects(clientFor(keyed, "wrong").models.list(), (e) => e.status === 401);
  const ok = clientFor(keyed, "s3cret");
  assert.equal((await ok.models.list()).data.length, 1);
  // One request holds the only slot, one waits, the next is refused. The holder cannot end early:
  // its end tokens are banned and its budget is far more than the test needs (the server stops
  // it at SIGTERM below); 200 tokens of the demo model take under 0.1 s in an optimised build.
  const holding = await ok.chat.completions.create({
    model, messages: [{ role: "user", content: "go" }], max_tokens: 1000,
    temperature: 0, stream: true, logit_bias: endTokenBans() });
  const iterator = holding[Symbol.asyncIterator]();
  await iterator.next();
  const waiting = ok.completions.create({ model, prompt: "Hi", max_tokens: 2 });
  assert.ok(await waitFor(async () => {
    const r = await fetch(`${keyed.baseURL}/metrics`, { headers: { Authorization: "Bearer s3cret" } });
    return /llama4_queue_depth 1\n/.test(await r.text());
  }));
  const refused = await fetch(`${keyed.baseURL}/v1/completions`, {
    method: "POST",
    headers: { Authorization: "Bearer s3cret", "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: "Hi", max_tokens: 2 }),
  });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await refused.json()).error.code, "overloaded");
  // SIGTERM while a stream is in flight: the stream ends cleanly and the process exits 0.
  const exit = stopServer(keyed);
  let finish = null;
  for (let step = await iterator.next(); !step.done; step = await iterator.next())
    for (const c of step.value.choices) if (c.finish_reason) finish = c.finish_reason;
  assert.ok(finish === "length" || finish === "stop");
  await waiting;
  assert.deepEqual(await exit, { code: 0, signal: null });
});

test("bounded load test: no errors, resident memory stable", async () => {
  const requestOnce = (i) =>
    client.completions.create({ model, prompt: `Load ${i} the sea`, max_tokens: 8 + (i % 8), temperature: 0.7, seed: i });
  // Warm up so that first-use allocations are not counted as growth.
  await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, (_, i) => requestOnce(i)));
  const before = residentKiB(server.pid);
  const started = Date.now();
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < LOAD_REQUESTS && Date.now() - started < LOAD_TIME_CAP_MS) {
      const i = next++;
      try {
        const r = await requestOnce(i);
        if (!r.choices[0].finish_reason) errors++;
      } catch (e) {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const afterKiB = residentKiB(server.pid);
  console.log(`[load] ${next} requests in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
              `RSS ${before} KiB -> ${afterKiB} KiB`);
  assert.equal(errors, 0);
  assert.equal(next, LOAD_REQUESTS, "the load test hit its time cap");
  assert.ok(afterKiB <= before * (1 + RSS_GROWTH_LIMIT), `RSS grew from ${before} to ${afterKiB} KiB`);
  assert.deepEqual(await stopServer(server), { code: 0, signal: null });
});
