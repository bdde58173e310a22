// HttpServer: the OpenAI-compatible HTTP front end (cpp-httplib). It routes requests, checks the
// API key, parses bodies into scheduler jobs, writes answers whole or as Server-Sent Events, logs
// one line per request on stderr and counts everything for /metrics. Every handler catches every
// exception, so no request can bring the server down.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/served_model.h"

namespace llama4::server {

inline constexpr std::size_t kDefaultMaxBodyBytes = 8 * 1024 * 1024;
inline constexpr int kDefaultPort = 8080;

struct HttpServerOptions {
  std::string host = "127.0.0.1";                     // loopback unless told otherwise
  int port = kDefaultPort;                            // 0: any free port (see HttpServer::port())
  std::string api_key;                                // empty: no key needed
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;  // larger bodies get 413
  bool log_requests = true;
};

class HttpServer {
 public:
  // The arguments must outlive the server.
  HttpServer(const ServedModel& served, Scheduler& scheduler, ServerMetrics& metrics,
             HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; throws Error when it cannot. Returns the port.
  int bind();
  int port() const;
  // Serves until stop(); returns once every in-flight request has been answered.
  void serve();
  // Waits until every streaming response has written its last event or lost its client, at most
  // `limit`; returns whether none is left. Call it after the scheduler has ended every request and
  // before stop(), which would cut such responses short.
  bool finish_streams(std::chrono::milliseconds limit);
  // Stops accepting connections (safe from any thread, also before serve()).
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Equal strings in time that depends only on their lengths (for API keys).
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace llama4::server
