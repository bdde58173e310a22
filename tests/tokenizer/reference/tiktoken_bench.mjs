// npm tiktoken's side of the tokenizer benchmark: load time of the Llama 4 ranks and encode
// throughput (UTF-8 MB/s, one thread) on the text that `bench_tokenizer --write-text=FILE` writes,
// so both tokenizers encode exactly the same bytes.
//
//   node tiktoken_bench.mjs PATH/tokenizer.model TEXT_FILE [REPEATS]
import { readFileSync } from "node:fs";
import { Tiktoken } from "tiktoken/lite";

// Must equal the pattern in tiktoken_encode.mjs (the o200k pattern Llama 4 uses).
const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const DEFAULT_REPEATS = 5;

const [modelPath, textPath, repeatsArg] = process.argv.slice(2);
if (!modelPath || !textPath) {
  console.error("usage: node tiktoken_bench.mjs PATH/tokenizer.model TEXT_FILE [REPEATS]");
  process.exit(2);
}
const repeats = Number(repeatsArg ?? DEFAULT_REPEATS);

// Load: read the base64 ranks and build the encoder (special tokens do not change plain-text
// encoding, so none are registered here).
const loadStart = performance.now();
const encoder = new Tiktoken(readFileSync(modelPath, "utf8"), {}, O200K_PATTERN);
const loadMs = performance.now() - loadStart;

const text = readFileSync(textPath, "utf8");
const megabytes = Buffer.byteLength(text, "utf8") / 1e6;
let tokens = 0;
const rates = [];
for (let i = 0; i < repeats; ++i) {
  const start = performance.now();
  tokens = encoder.encode(text, [], []).length;
  rates.push(megabytes / ((performance.now() - start) / 1e3));
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
console.log(JSON.stringify({
  load_ms: Number(loadMs.toFixed(1)),
  megabytes: Number(megabytes.toFixed(2)),
  tokens,
  encode_mb_per_s_median: Number(median.toFixed(2)),
  encode_mb_per_s_best: Number(rates[rates.length - 1].toFixed(2)),
}));
encoder.free();
