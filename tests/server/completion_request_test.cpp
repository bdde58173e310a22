// Parsing of completion request bodies: defaults, field mapping, and the 400/404 ApiErrors for
// wrong types, out-of-range values, unknown models and prompts that do not fit the context.
#include "server/completion_request.h"

#include "server/api_error.h"
#include "server_test_support.h"

namespace llama4::server::testing {
namespace {

constexpr std::uint64_t kSeed = 1234;

int status_of(const json& body, ApiKind kind = ApiKind::kChat) {
  const DemoModel& demo = DemoModel::get();
  try {
    if (kind == ApiKind::kChat)
      parse_chat_request(body, demo.served, kSeed);
    else
      parse_completion_request(body, demo.served, kSeed);
  } catch (const ApiError& e) {
    return e.status();
  }
  return 200;
}

TEST(CompletionRequestTest, MapsFieldsIntoTheJob) {
  json body = chat_body("Hello", 7);
  body["stop"] = "END";
  body["top_k"] = 5;
  body["top_p"] = 0.5;
  body["min_p"] = 0.1;
  body["presence_penalty"] = 0.5;
  body["frequency_penalty"] = -0.25;
  body["seed"] = 99;
  body["logit_bias"] = {{"7", -100}};
  body["logprobs"] = true;
  body["top_logprobs"] = 3;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const CompletionRequest r = parse_chat_request(body, DemoModel::get().served, kSeed);
  EXPECT_EQ(r.job.max_tokens, 7);
  EXPECT_EQ(r.job.stop_strings, std::vector<std::string>{"END"});
  EXPECT_EQ(r.job.sampling.temperature, 0.0f);
  EXPECT_EQ(r.job.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.job.sampling.top_p, 0.5f);
  EXPECT_FLOAT_EQ(r.job.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.job.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.job.sampling.frequency_penalty, -0.25f);
  EXPECT_EQ(r.job.sampling.seed, 99u);
  EXPECT_EQ(r.job.sampling.logit_bias.at(7), -100.0f);
  EXPECT_EQ(r.job.sampling.top_logprobs, 3);
  EXPECT_TRUE(r.stream && r.include_usage && r.logprobs);
  const auto expected = DemoModel::get().tokenizer->encode(
      "<|begin_of_text|><|header_start|>user<|header_end|>\n\nHello<|eot|>"
      "<|header_start|>assistant<|header_end|>\n\n",
      {.parse_special = true});
  EXPECT_EQ(r.job.prompt, expected);
}

TEST(CompletionRequestTest, DefaultsFillTheContextAndUseTheGivenSeed) {
  const json body = {{"prompt", json::array({1, 2, 3})}};
  const CompletionRequest r = parse_completion_request(body, DemoModel::get().served, kSeed);
  EXPECT_EQ(r.job.prompt, (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(r.job.max_tokens, kTestContext - 3);
  EXPECT_EQ(r.job.sampling.seed, kSeed);
  EXPECT_FALSE(r.stream);
  json chat = chat_body("x", 100);
  chat["max_completion_tokens"] = 9;  // the newer name wins
  EXPECT_EQ(parse_chat_request(chat, DemoModel::get().served, kSeed).job.max_tokens, 9);
}

TEST(CompletionRequestTest, RejectsBadFieldsWithTheRightStatus) {
  const auto with = [](const char* key, json value) {
    json body = chat_body("x", 5);
    body[key] = std::move(value);
    return body;
  };
  EXPECT_EQ(status_of(with("temperature", -0.1)), 400);
  EXPECT_EQ(status_of(with("top_p", 1.5)), 400);
  EXPECT_EQ(status_of(with("max_tokens", 2.5)), 400);
  EXPECT_EQ(status_of(with("max_tokens", -1)), 400);
  EXPECT_EQ(status_of(with("stop", json::array({1}))), 400);
  EXPECT_EQ(status_of(with("stop", json(std::vector<std::string>(kMaxStopStrings + 1, "a")))), 400);
  EXPECT_EQ(status_of(with("logit_bias", {{"abc", 1}})), 400);
  EXPECT_EQ(status_of(with("logit_bias", {{"3", 500}})), 400);
  EXPECT_EQ(status_of(with("presence_penalty", 2.5)), 400);
  EXPECT_EQ(status_of(with("top_logprobs", 2)), 400);  // without logprobs
  EXPECT_EQ(status_of(with("stream", "yes")), 400);
  EXPECT_EQ(status_of(with("n", 2)), 400);
  EXPECT_EQ(status_of(with("messages", "hi")), 400);
  EXPECT_EQ(status_of(with("messages", json::array({{{"role", "user"}, {"content", 5}}}))), 400);
  EXPECT_EQ(status_of(with("model", "other")), 404);
  EXPECT_EQ(status_of(with("n", 1)), 200);
  EXPECT_EQ(status_of(json::array()), 400);
  EXPECT_EQ(status_of({{"prompt", 5}}, ApiKind::kCompletion), 400);
  EXPECT_EQ(status_of({{"prompt", json::array({-1})}}, ApiKind::kCompletion), 400);
  EXPECT_EQ(status_of({{"prompt", json(std::vector<int>(kTestContext, 1))}}, ApiKind::kCompletion),
            400);
  EXPECT_EQ(
      status_of({{"prompt", json(std::vector<int>(kTestContext - 1, 1))}}, ApiKind::kCompletion),
      200);
}

TEST(CompletionRequestTest, ErrorBodyHasTheOpenAiFields) {
  const json body = error_body(invalid_request("bad value", "temperature"));
  EXPECT_EQ(body["error"]["message"], "bad value");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "temperature");
  EXPECT_TRUE(body["error"]["code"].is_null());
}

}  // namespace
}  // namespace llama4::server::testing
