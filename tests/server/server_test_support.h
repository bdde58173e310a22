// Shared pieces of the server tests: the demo model written once per test binary, an in-process
// server (scheduler + HTTP front end on a free loopback port) that stops when it goes out of
// scope, and small HTTP helpers (JSON POSTs, Server-Sent-Event parsing, /metrics reading).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "generate/demo_model.h"
#include "generate/generation_config.h"
#include "model/model.h"
#include "server/http_server.h"
#include "server/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace llama4::server::testing {

using nlohmann::json;

constexpr std::int64_t kTestContext = 256;

// The demo model, written and loaded once for the whole test binary.
struct DemoModel {
  std::filesystem::path dir;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  ServedModel served;

  static DemoModel& get() {
    static DemoModel demo;
    return demo;
  }
  DemoModel()
      : dir(std::filesystem::temp_directory_path() /
            ("llama4-server-test-" + std::to_string(::getpid()))) {
    write_demo_model(dir);
    model = Model::load(dir);
    tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(dir));
    served.model = model.get();
    served.tokenizer = tokenizer.get();
    served.generation = GenerationConfig::load(dir);
    served.name = "demo";
    served.context_size = kTestContext;
    served.end_token_ids = end_token_ids(model->config(), served.generation, tokenizer.get());
  }
  ~DemoModel() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

struct TestServerOptions {
  std::int64_t parallel = 4;
  std::int64_t max_queue = 32;
  std::string api_key = {};
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;
};

// A running server on 127.0.0.1:<free port>.
class TestServer {
 public:
  explicit TestServer(const TestServerOptions& o = {}) {
    DemoModel& demo = DemoModel::get();
    SchedulerOptions so;
    so.parallel = o.parallel;
    so.max_queue = o.max_queue;
    so.context_size = kTestContext;
    so.end_token_ids = demo.served.end_token_ids;
    scheduler_ = std::make_unique<Scheduler>(*demo.model, *demo.tokenizer, so, metrics_);
    HttpServerOptions ho;
    ho.port = 0;
    ho.api_key = o.api_key;
    ho.max_body_bytes = o.max_body_bytes;
    ho.log_requests = false;
    http_ = std::make_unique<HttpServer>(demo.served, *scheduler_, metrics_, ho);
    port_ = http_->bind();
    thread_ = std::thread([this] { http_->serve(); });
    httplib::Client probe("127.0.0.1", port_);
    for (int i = 0; i < 200 && !probe.Get("/health"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~TestServer() {
    scheduler_->shutdown();
    http_->stop();
    thread_.join();
  }

  int port() const { return port_; }
  ServerMetrics& metrics() { return metrics_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(600, 0);  // generous: the sanitized build on a loaded machine is slow
    c.set_connection_timeout(60, 0);
    return c;
  }

 private:
  ServerMetrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  int port_ = 0;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  json json_body;  // null when the body is not JSON
  httplib::Headers headers;
};

inline HttpAnswer post_json(const TestServer& server, const std::string& path,
                            const std::string& body, const httplib::Headers& headers = {}) {
  httplib::Client c = server.client();
  const auto result = c.Post(path.c_str(), headers, body, "application/json");
  HttpAnswer answer;
  if (!result) {
    answer.body = "no answer: " + httplib::to_string(result.error());
    return answer;
  }
  answer.status = result->status;
  answer.body = result->body;
  answer.headers = result->headers;
  answer.json_body = json::parse(result->body, nullptr, false);
  if (answer.json_body.is_discarded()) answer.json_body = nullptr;
  return answer;
}

// The JSON payloads of "data: ..." lines, "[DONE]" kept as the string "[DONE]".
inline std::vector<json> sse_events(const std::string& stream) {
  std::vector<json> events;
  std::istringstream in(stream);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string payload = line.substr(6);
    events.push_back(payload == "[DONE]" ? json("[DONE]") : json::parse(payload));
  }
  return events;
}

inline json chat_body(const std::string& user_text, int max_tokens, bool stream = false) {
  return {{"model", "demo"},
          {"messages", json::array({{{"role", "user"}, {"content", user_text}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0},
          {"stream", stream}};
}

}  // namespace llama4::server::testing
