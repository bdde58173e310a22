// Reference encoder for the tokenizer tests: the npm `tiktoken` package with the Llama 4 ranks and
// special tokens (as Meta's models/llama4/tokenizer.py defines them). Reads one JSON string per stdin
// line and prints one JSON array of ids per line.
//
//   node tiktoken_encode.mjs PATH/tokenizer.model [--parse-special] [--time] < strings.jsonl > ids.jsonl
// --time reports the load time and the encode throughput (UTF-8 MB/s) on stderr.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Tiktoken } from "tiktoken/lite";

const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?" +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const NUM_RESERVED_SPECIAL_TOKENS = 2048;

function reserved(name, count, start) {
  return Array.from({ length: count }, (_, i) => `<|${name}_reserved_special_token_${start + i}|>`);
}

function llama4SpecialTokens() {
  const basic = ["<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"];
  const textPostTrain = ["<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>",
    ...reserved("text_post_train", 6, 0), "<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>",
    ...reserved("text_post_train", 61, 8)];
  const vision = ["<|image_start|>", "<|image_end|>", "<|vision_reserved_special_token_0|>",
    "<|vision_reserved_special_token_1|>", "<|tile_x_separator|>", "<|tile_y_separator|>",
    ...reserved("vision", 4, 2), "<|image|>", "<|vision_reserved_special_token_6|>", "<|patch|>",
    ...reserved("vision", 1041, 7)];
  const reasoning = [...reserved("reasoning", 8, 0), "<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"];
  const named = [...basic, ...textPostTrain, ...vision, ...reasoning];
  const tail = Array.from({ length: NUM_RESERVED_SPECIAL_TOKENS - named.length }, (_, i) => `<|reserved_special_token_${i}|>`);
  return [...named, ...tail];
}

const [modelPath, ...flags] = process.argv.slice(2);
if (!modelPath) {
  console.error("usage: node tiktoken_encode.mjs PATH/tokenizer.model [--parse-special]");
  process.exit(2);
}
const parseSpecial = flags.includes("--parse-special");
const reportTime = flags.includes("--time");
const loadStart = performance.now();
const ranksText = readFileSync(modelPath, "utf8");
const numBaseTokens = ranksText.split("\n").filter((line) => line.length > 0).length;
const specials = {};
llama4SpecialTokens().forEach((name, i) => { specials[name] = numBaseTokens + i; });
const encoder = new Tiktoken(ranksText, specials, O200K_PATTERN);
const loadMs = performance.now() - loadStart;

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const texts = [];
for await (const line of lines) {
  if (line.length > 0) texts.push(JSON.parse(line));
}
const out = [];
let encodeMs = 0;
let bytes = 0;
for (const text of texts) {
  const start = performance.now();
  const ids = parseSpecial ? encoder.encode(text, "all", []) : encoder.encode(text, [], []);
  encodeMs += performance.now() - start;
  bytes += Buffer.byteLength(text, "utf8");
  out.push(JSON.stringify(Array.from(ids)));
}
if (reportTime) {
  const mbPerS = bytes / 1e6 / (encodeMs / 1e3);
  console.error(`load ${loadMs.toFixed(0)} ms; encode ${mbPerS.toFixed(2)} MB/s (${(bytes / 1e6).toFixed(2)} MB)`);
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
encoder.free();
