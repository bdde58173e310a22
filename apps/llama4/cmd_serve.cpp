// `llama4 serve -m DIR`: an OpenAI-compatible HTTP server (chat and text completions, streaming,
// tokenize, metrics) that batches the decoding of many requests into one forward pass per step.
// SIGINT / SIGTERM stop it gracefully: requests in flight are ended with their final chunk, then
// the process exits 0.
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "command.h"
#include "generate/demo_model.h"
#include "generate/generation_config.h"
#include "model/model.h"
#include "precision_flags.h"
#include "server/http_server.h"
#include "server/scheduler.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/progress.h"

namespace llama4::cli {
namespace {

constexpr std::int64_t kDefaultParallel = 4;
constexpr std::int64_t kDefaultMaxQueue = 64;
constexpr std::int64_t kDefaultServeContext = 4096;  // per slot: min(this, the model's maximum)
// At a stop, how long streams may take to write their last events (they need a few milliseconds;
// a client that does not read is cut off after this).
constexpr std::chrono::seconds kStreamsFinishLimit{10};

struct ServeOptions {
  std::string model_dir;
  std::string model_name;
  server::HttpServerOptions http;
  server::SchedulerOptions scheduler;
  QuantizedActivations activations = QuantizedActivations::kAuto;
  int threads = 0;
  bool quiet = false;
};

std::string default_model_name(const std::filesystem::path& dir) {
  const std::filesystem::path clean = dir.lexically_normal();
  const std::string name =
      clean.has_filename() ? clean.filename().string() : clean.parent_path().filename().string();
  return name.empty() ? "llama4" : name;
}

int run_serve(ServeOptions o) {
  // Block the stop signals in every thread (those started later inherit the mask); one thread
  // waits for them with sigwait and shuts down in order.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the process

  const std::filesystem::path dir = o.model_dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error("model folder '" + o.model_dir + "' does not exist or is not a folder");
  if (!Tokenizer::available(dir))
    throw Error("model folder '" + o.model_dir +
                "' has no tokenizer (tokenizer.json or tokenizer.model); the server needs one");
  if (o.threads > 0) omp_set_num_threads(o.threads);
  if (is_demo_model(dir))
    std::fprintf(stderr, "note: %s is a %s\n", o.model_dir.c_str(), kDemoModelNotice);

  set_progress_suppressed(o.quiet);
  const std::unique_ptr<Model> model = Model::load(dir);
  apply_activations_flag(*model, o.activations, o.quiet);
  const Tokenizer tokenizer = Tokenizer::load(dir);
  server::ServedModel served;
  served.model = model.get();
  served.tokenizer = &tokenizer;
  served.generation = GenerationConfig::load(dir);
  served.name = o.model_name.empty() ? default_model_name(dir) : o.model_name;
  const std::int64_t max_positions = model->config().max_position_embeddings;
  served.context_size = o.scheduler.context_size > 0
                            ? std::min(o.scheduler.context_size, max_positions)
                            : std::min(kDefaultServeContext, max_positions);
  served.end_token_ids = end_token_ids(model->config(), served.generation, &tokenizer);

  o.scheduler.context_size = served.context_size;
  o.scheduler.end_token_ids = served.end_token_ids;
  o.http.log_requests = !o.quiet;
  server::ServerMetrics metrics;
  server::Scheduler scheduler(*model, tokenizer, o.scheduler, metrics);
  server::HttpServer http(served, scheduler, metrics, o.http);
  const int port = http.bind();
  std::fprintf(
      stderr, "serving '%s' on http://%s:%d (%lld slots of %lld tokens, queue %lld)%s\n",
      served.name.c_str(), o.http.host.c_str(), port, static_cast<long long>(o.scheduler.parallel),
      static_cast<long long>(served.context_size), static_cast<long long>(o.scheduler.max_queue),
      o.http.api_key.empty() ? "" : ", API key required");

  std::atomic<bool> serving_done{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (serving_done) return;
    std::fprintf(stderr, "received %s: finishing requests in flight and stopping\n",
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    scheduler.shutdown();  // ends every request at its next step, with its final chunk
    if (!http.finish_streams(kStreamsFinishLimit))
      std::fprintf(stderr, "some streams did not finish within %lld s; closing them\n",
                   static_cast<long long>(kStreamsFinishLimit.count()));
    http.stop();  // stops accepting; serve() returns once the answers are written
  });
  http.serve();
  serving_done = true;
  pthread_kill(signal_waiter.native_handle(), SIGTERM);  // no-op if it already returned
  signal_waiter.join();
  scheduler.shutdown();
  std::fprintf(stderr, "server stopped\n");
  return 0;
}

const CommandRegistration kServe{
    "serve", "Serve the model over an OpenAI-compatible HTTP API", 60, [](CLI::App& cmd) {
      auto o = std::make_shared<ServeOptions>();
      cmd.add_option("-m,--model", o->model_dir, "Model folder (with tokenizer)")->required();
      cmd.add_option("--host", o->http.host, "Address to listen on (loopback by default)")
          ->capture_default_str();
      cmd.add_option("--port", o->http.port, "Port (0: any free port)")->capture_default_str();
      cmd.add_option("--api-key", o->http.api_key,
                     "Require 'Authorization: Bearer KEY' on every route but /health");
      o->scheduler.parallel = kDefaultParallel;
      cmd.add_option("--parallel", o->scheduler.parallel, "Requests decoded together (slots)")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
      cmd.add_option("-c,--ctx-size", o->scheduler.context_size,
                     "Context per slot (default: min(4096, the model's maximum))");
      add_kv_type_flag(cmd, o->scheduler.kv_type);
      add_activations_flag(cmd, o->activations);
      o->scheduler.max_queue = kDefaultMaxQueue;
      cmd.add_option("--max-queue", o->scheduler.max_queue,
                     "Requests that may wait for a slot; more get 503")
          ->capture_default_str()
          ->check(CLI::NonNegativeNumber);
      cmd.add_option("--max-body", o->http.max_body_bytes, "Largest request body in bytes (413)")
          ->capture_default_str();
      cmd.add_option("--model-name", o->model_name,
                     "Model id clients use (default: the folder's name)");
      cmd.add_option("-t,--threads", o->threads, "Threads (default: all cores)");
      cmd.add_flag("-q,--quiet", o->quiet, "No per-request log lines");
      return [o] { return run_serve(*o); };
    }};

}  // namespace
}  // namespace llama4::cli
