// HttpServer implementation: routes, authentication, error bodies, request logging, and the
// streaming of a request's tokens from its RequestChannel to the client.
#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>
#include <string_view>

#include "server/api_error.h"
#include "server/completion_request.h"
#include "server/openai_format.h"
#include "util/error.h"

namespace llama4::server {
namespace {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr int kRetryAfterSeconds = 1;
constexpr std::chrono::milliseconds kEventWait{100};
constexpr std::size_t kExtraHttpThreads = 16;  // beyond slots + queue: /health, /metrics, refusals
constexpr time_t kKeepAliveSeconds = 5;
constexpr const char* kJsonType = "application/json";
constexpr const char* kOwner = "llama4.cpp";

// What the per-request log line needs; set by the handler, read by the logger, both of which run
// on the connection's thread.
struct RequestLog {
  Clock::time_point start = Clock::now();
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};
thread_local RequestLog t_log;

// Every route and its method; the other methods on these paths get 405.
struct Route {
  const char* method;
  const char* path;
};
constexpr Route kRoutes[] = {
    {"GET", "/health"},
    {"GET", "/v1/models"},
    {"GET", "/models"},
    {"POST", "/v1/chat/completions"},
    {"POST", "/chat/completions"},
    {"POST", "/v1/completions"},
    {"POST", "/completions"},
    {"POST", "/tokenize"},
    {"POST", "/detokenize"},
    {"GET", "/metrics"},
};
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

const Route* find_route(const std::string& path) {
  for (const Route& r : kRoutes)
    if (path == r.path) return &r;
  return nullptr;
}

void send_json(httplib::Response& res, int status, const ordered_json& body) {
  res.status = status;
  res.set_content(dump_json(body), kJsonType);
}

void send_error(httplib::Response& res, const ApiError& error) {
  if (error.status() == kStatusUnavailable)
    res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
  send_json(res, error.status(), error_body(error));
}

void method_not_allowed(const httplib::Request& req, httplib::Response& res) {
  const Route* route = find_route(req.path);
  if (route) res.set_header("Allow", route->method);
  send_error(res, ApiError(kStatusMethodNotAllowed,
                           "method " + req.method + " is not allowed on " + req.path,
                           "invalid_request_error", {}, "method_not_allowed"));
}

ordered_json parse_body(const httplib::Request& req) {
  try {
    return ordered_json::parse(req.body);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range for 1e10000
    throw invalid_request(std::string("the body is not valid JSON: ") + e.what(), {},
                          "invalid_json");
  }
}

// Pulls one request's events off its channel and writes them as Server-Sent Events.
struct EventStream {
  std::shared_ptr<void> open;  // counts the stream as open until the response is done with it
  std::shared_ptr<RequestChannel> channel;
  ResponseHeader header;
  const Tokenizer* tokenizer = nullptr;
  bool include_usage = false;
  bool logprobs = false;
  bool sent_role = false;
  std::size_t text_length = 0;

  static bool write_event(httplib::DataSink& sink, const std::string& data) {
    const std::string line = "data: " + data + "\n\n";
    return sink.write(line.data(), line.size());
  }

  // One call of the content provider: waits for the next event and writes it.
  bool pump(httplib::DataSink& sink) {
    const std::optional<StreamEvent> event = channel->pop(kEventWait);
    if (!event) {
      if (sink.is_writable()) return true;
      channel->cancel();
      return false;
    }
    bool ok = true;
    switch (event->kind) {
      case StreamEvent::Kind::kText: {
        ordered_json lp = nullptr;
        if (logprobs && event->sample) {
          LogprobsBuilder builder(header.kind, *tokenizer);
          builder.add(*event->sample, text_length);
          lp = builder.json();
        }
        text_length += event->text.size();
        if (event->text.empty() && lp.is_null()) return true;
        const bool role = header.kind == ApiKind::kChat && !sent_role;
        sent_role = true;
        ok = write_event(sink,
                         dump_json(chunk_json(header, role, event->text, {}, lp, include_usage)));
        break;
      }
      case StreamEvent::Kind::kFinished: {
        t_log.prompt_tokens = event->usage.prompt_tokens;
        t_log.completion_tokens = event->usage.completion_tokens;
        const bool role = header.kind == ApiKind::kChat && !sent_role;
        const std::optional<std::string> text =
            header.kind == ApiKind::kChat && !role ? std::nullopt : std::optional<std::string>("");
        ok = write_event(
            sink, dump_json(chunk_json(header, role, text, event->finish, nullptr, include_usage)));
        if (ok && include_usage)
          ok = write_event(sink, dump_json(usage_chunk_json(header, event->usage)));
        if (ok) ok = write_event(sink, "[DONE]");
        if (ok) sink.done();
        break;
      }
      case StreamEvent::Kind::kFailed: {
        const ApiError error(kStatusInternalError, event->error, "server_error");
        ok = write_event(sink, dump_json(error_body(error)));
        if (ok) ok = write_event(sink, "[DONE]");
        if (ok) sink.done();
        break;
      }
    }
    if (!ok) channel->cancel();
    return ok;
  }
};

}  // namespace

bool constant_time_equal(const std::string& a, const std::string& b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

struct HttpServer::Impl {
  Impl(const ServedModel& s, Scheduler& sch, ServerMetrics& m, HttpServerOptions o)
      : served(s), scheduler(sch), metrics(m), options(std::move(o)) {}

  const ServedModel& served;
  Scheduler& scheduler;
  ServerMetrics& metrics;
  HttpServerOptions options;
  httplib::Server http;
  int port = 0;
  socket_t listening_socket = INVALID_SOCKET;  // set when http creates it (see bind())
  std::mt19937_64 seeds{std::random_device{}()};
  std::mutex seeds_mutex;
  // Streaming responses not yet fully written. The HTTP library ends a chunked response as soon
  // as it stops listening, so a graceful stop waits for them first (finish_streams).
  std::mutex streams_mutex;
  std::condition_variable streams_closed;
  int open_streams = 0;

  // Holds one stream open until destroyed.
  struct OpenStream {
    explicit OpenStream(Impl& impl) : impl(impl) {
      std::lock_guard lock(impl.streams_mutex);
      ++impl.open_streams;
    }
    ~OpenStream() {
      {
        std::lock_guard lock(impl.streams_mutex);
        --impl.open_streams;
      }
      impl.streams_closed.notify_all();
    }
    OpenStream(const OpenStream&) = delete;
    OpenStream& operator=(const OpenStream&) = delete;
    Impl& impl;
  };

  std::uint64_t random_seed() {
    std::lock_guard lock(seeds_mutex);
    return seeds();
  }

  // Runs a handler, turning every exception into an error response.
  template <typename Handler>
  httplib::Server::Handler guarded(Handler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      try {
        handler(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const Error& e) {
        send_error(res, invalid_request(e.what()));
      } catch (const std::exception& e) {
        send_error(res, ApiError(kStatusInternalError, std::string("internal error: ") + e.what(),
                                 "server_error"));
      }
    };
  }

  void setup();
  void completions(const httplib::Request& req, httplib::Response& res, ApiKind kind);
  void answer_whole(httplib::Response& res, const CompletionRequest& request,
                    const ResponseHeader& header, RequestChannel& channel);
};

void HttpServer::Impl::setup() {
  const std::size_t threads =
      static_cast<std::size_t>(scheduler.options().parallel + scheduler.options().max_queue) +
      kExtraHttpThreads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_keep_alive_timeout(kKeepAliveSeconds);
  http.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listening_socket = sock;
  });

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_log = RequestLog{};
    if (options.api_key.empty() || req.path == "/health")
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const bool ok = header.size() > prefix.size() &&
                    header.compare(0, prefix.size(), prefix) == 0 &&
                    constant_time_equal(header.substr(prefix.size()), options.api_key);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(kStatusUnauthorized,
                             header.empty() ? "no API key: send 'Authorization: Bearer KEY'"
                                            : "the API key is not valid",
                             "invalid_request_error", {}, "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });

  // Statuses httplib sets itself (no route, body too large, unparsable request) get JSON bodies.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == kStatusNotFound) {
      if (find_route(req.path)) {
        method_not_allowed(req, res);
      } else {
        send_error(res, ApiError(kStatusNotFound, "no route " + req.method + " " + req.path,
                                 "invalid_request_error", {}, "not_found"));
      }
    } else if (res.status == kStatusPayloadTooLarge) {
      send_error(res, ApiError(kStatusPayloadTooLarge,
                               "the request body is larger than the limit of " +
                                   std::to_string(options.max_body_bytes) + " bytes",
                               "invalid_request_error", {}, "request_too_large"));
    } else {
      send_error(res, ApiError(res.status, "the request could not be processed",
                               res.status >= kStatusInternalError ? "server_error"
                                                                  : "invalid_request_error"));
    }
  });
  // Wrong methods on known paths: registered explicitly, since httplib answers some of them
  // (PUT, PATCH, DELETE without a route) with 400 before any handler could see them.
  for (const Route& route : kRoutes) {
    for (const char* method : kMethods) {
      if (std::string_view(method) == route.method) continue;
      const std::string path = route.path;
      if (std::string_view(method) == "GET") http.Get(path, method_not_allowed);
      if (std::string_view(method) == "POST") http.Post(path, method_not_allowed);
      if (std::string_view(method) == "PUT") http.Put(path, method_not_allowed);
      if (std::string_view(method) == "PATCH") http.Patch(path, method_not_allowed);
      if (std::string_view(method) == "DELETE") http.Delete(path, method_not_allowed);
    }
  }
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, ApiError(kStatusInternalError, "internal error", "server_error"));
      });

  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics.count_request(res.status);
    if (!options.log_requests) return;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_log.start).count();
    std::fprintf(stderr, "%s %s %d prompt=%lld completion=%lld %.1fms\n", req.method.c_str(),
                 req.path.c_str(), res.status, static_cast<long long>(t_log.prompt_tokens),
                 static_cast<long long>(t_log.completion_tokens), ms);
  });

  http.Get("/health", guarded([](const httplib::Request&, httplib::Response& res) {
             send_json(res, kStatusOk, {{"status", "ok"}});
           }));
  const auto models = guarded([this](const httplib::Request&, httplib::Response& res) {
    const ordered_json model = {{"id", served.name},
                                {"object", "model"},
                                {"created", static_cast<std::int64_t>(std::time(nullptr))},
                                {"owned_by", kOwner}};
    send_json(res, kStatusOk, {{"object", "list"}, {"data", ordered_json::array({model})}});
  });
  http.Get("/v1/models", models);
  http.Get("/models", models);
  const auto chat = guarded([this](const httplib::Request& req, httplib::Response& res) {
    completions(req, res, ApiKind::kChat);
  });
  http.Post("/v1/chat/completions", chat);
  http.Post("/chat/completions", chat);
  const auto completion = guarded([this](const httplib::Request& req, httplib::Response& res) {
    completions(req, res, ApiKind::kCompletion);
  });
  http.Post("/v1/completions", completion);
  http.Post("/completions", completion);

  http.Post(
      "/tokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
        const ordered_json body = parse_body(req);
        if (!body.is_object() || !body.contains("content") || !body["content"].is_string())
          throw invalid_request("'content' must be a string", "content");
        bool add_special = false;
        if (body.contains("add_special")) {
          if (!body["add_special"].is_boolean())
            throw invalid_request("'add_special' must be a boolean", "add_special");
          add_special = body["add_special"].get<bool>();
        }
        const Tokenizer& tokenizer = *served.tokenizer;
        const auto ids = tokenizer.encode(
            body["content"].get<std::string>(),
            {.add_bos = add_special && tokenizer.bos_id().has_value(), .parse_special = true});
        send_json(res, kStatusOk, {{"tokens", ids}});
      }));
  http.Post("/detokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
              const ordered_json body = parse_body(req);
              if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
                throw invalid_request("'tokens' must be a list of token ids", "tokens");
              const auto vocab = static_cast<std::int64_t>(served.tokenizer->vocab_size());
              std::vector<TokenId> ids;
              for (const auto& id : body["tokens"]) {
                if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
                    id.get<std::int64_t>() >= vocab)
                  throw invalid_request(
                      "'tokens' must hold token ids in [0, " + std::to_string(vocab) + ")",
                      "tokens");
                ids.push_back(id.get<TokenId>());
              }
              send_json(res, kStatusOk, {{"content", served.tokenizer->decode(ids)}});
            }));
  http.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
             res.status = kStatusOk;
             res.set_content(metrics.prometheus_text(scheduler.options().parallel),
                             "text/plain; version=0.0.4");
           }));
}

void HttpServer::Impl::completions(const httplib::Request& req, httplib::Response& res,
                                   ApiKind kind) {
  const ordered_json body = parse_body(req);
  CompletionRequest request = kind == ApiKind::kChat
                                  ? parse_chat_request(body, served, random_seed())
                                  : parse_completion_request(body, served, random_seed());
  const ResponseHeader header{kind, new_response_id(kind),
                              static_cast<std::int64_t>(std::time(nullptr)), served.name};
  t_log.prompt_tokens = static_cast<std::int64_t>(request.job.prompt.size());
  std::shared_ptr<RequestChannel> channel = scheduler.submit(request.job);
  if (!request.stream) {
    answer_whole(res, request, header, *channel);
    return;
  }
  auto stream = std::make_shared<EventStream>();
  stream->open = std::make_shared<OpenStream>(*this);
  stream->channel = channel;
  stream->header = header;
  stream->tokenizer = served.tokenizer;
  stream->include_usage = request.include_usage;
  stream->logprobs = request.logprobs;
  res.status = kStatusOk;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream](std::size_t, httplib::DataSink& sink) { return stream->pump(sink); },
      [channel](bool success) {
        if (!success) channel->cancel();  // the client went away: free its slot
      });
}

void HttpServer::Impl::answer_whole(httplib::Response& res, const CompletionRequest& request,
                                    const ResponseHeader& header, RequestChannel& channel) {
  std::string text;
  LogprobsBuilder logprobs(header.kind, *served.tokenizer);
  for (;;) {
    std::optional<StreamEvent> event = channel.pop(kEventWait);
    if (!event) continue;
    if (event->kind == StreamEvent::Kind::kText) {
      if (request.logprobs && event->sample) logprobs.add(*event->sample, text.size());
      text += event->text;
    } else if (event->kind == StreamEvent::Kind::kFinished) {
      t_log.completion_tokens = event->usage.completion_tokens;
      send_json(res, kStatusOk,
                completion_json(header, text, event->finish, event->usage,
                                request.logprobs ? logprobs.json() : ordered_json(nullptr)));
      return;
    } else {
      throw ApiError(kStatusInternalError, event->error, "server_error");
    }
  }
}

HttpServer::HttpServer(const ServedModel& served, Scheduler& scheduler, ServerMetrics& metrics,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(served, scheduler, metrics, std::move(options))) {
  impl_->setup();
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind() {
  const auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(o.host);
    if (impl_->port < 0) throw Error("cannot listen on " + o.host + " (any port)");
  } else {
    if (!impl_->http.bind_to_port(o.host, o.port))
      throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (in use, or not an address of this machine)");
    impl_->port = o.port;
  }
  // cpp-httplib listens with a backlog of 5 (compiled into the system library): a burst of more
  // simultaneous connections than that overflows the accept queue whenever the accept thread
  // waits for a core, and the kernel then drops or resets connections (a loaded test machine saw
  // "Read" errors with 16 clients). Listening again on the bound socket raises the backlog.
  if (impl_->listening_socket != INVALID_SOCKET) ::listen(impl_->listening_socket, SOMAXCONN);
  return impl_->port;
}

int HttpServer::port() const {
  return impl_->port;
}

void HttpServer::serve() {
  impl_->http.listen_after_bind();
}

bool HttpServer::finish_streams(std::chrono::milliseconds limit) {
  std::unique_lock lock(impl_->streams_mutex);
  return impl_->streams_closed.wait_for(lock, limit, [&] { return impl_->open_streams == 0; });
}

void HttpServer::stop() {
  impl_->http.stop();
}

}  // namespace llama4::server
