// Reference encoder for the tokenizer.json path: the npm `@huggingface/tokenizers` package (the
// JavaScript port of Hugging Face tokenizers) loading a tokenizer.json. Reads one JSON string per
// stdin line and prints one JSON array of ids per line. No BOS/post-processor tokens are added
// unless --add-special is given.
//
//   node hf_tokenizers_encode.mjs DIR/tokenizer.json [--add-special] < strings.jsonl > ids.jsonl
//
// Note: like every Hugging Face tokenizer, this one always recognises added (special) tokens
// written literally in the input text; it has no switch to treat them as plain text.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Tokenizer } from "@huggingface/tokenizers";

const [tokenizerPath, ...flags] = process.argv.slice(2);
if (!tokenizerPath) {
  console.error("usage: node hf_tokenizers_encode.mjs DIR/tokenizer.json [--add-special]");
  process.exit(2);
}
const addSpecial = flags.includes("--add-special");
const configPath = join(dirname(tokenizerPath), "tokenizer_config.json");
const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8"));
const tokenizerConfig = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of lines) {
  if (line.length === 0) continue;
  const { ids } = tokenizer.encode(JSON.parse(line), { add_special_tokens: addSpecial });
  out.push(JSON.stringify(Array.from(ids, Number)));
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
