// Reference chat-template renderer for the chat tests: renders a Jinja template with the
// @huggingface/jinja package (the renderer transformers.js uses) so our engine's output can be
// compared byte for byte.
//
// stdin:  {"template": "<jinja source>", "contexts": [{...variables...}, ...]}
// stdout: [{"output": "<rendered>"} | {"error": "<message>"}, ...] — one entry per context, in order.
import { Template } from "@huggingface/jinja";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const message = (e) => String(e && e.message ? e.message : e);
let template = null;
let parseError = null;
try {
  template = new Template(request.template);
} catch (e) {
  parseError = message(e);
}
const results = request.contexts.map((context) => {
  if (parseError !== null) return { error: parseError };
  try {
    return { output: template.render(context) };
  } catch (e) {
    return { error: message(e) };
  }
});
process.stdout.write(JSON.stringify(results));
