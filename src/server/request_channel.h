// RequestChannel: the thread-safe hand-over between the scheduler's worker thread, which produces
// a request's text token by token, and the HTTP thread that writes it to the client. The HTTP side
// sets the cancel flag when its client goes away; the worker sees it at the next step and frees the
// slot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "generate/sampler.h"

namespace llama4::server {

enum class FinishReason { kStop, kLength };
const char* finish_reason_name(FinishReason reason);  // "stop", "length"

struct TokenUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

struct StreamEvent {
  enum class Kind { kText, kFinished, kFailed };
  Kind kind = Kind::kText;
  std::string text;                    // kText: newly printable text (may be empty)
  std::optional<SampleResult> sample;  // kText: the token that produced it (none for a final flush)
  FinishReason finish = FinishReason::kStop;  // kFinished
  TokenUsage usage;                           // kFinished
  std::string error;                          // kFailed

  static StreamEvent text_piece(std::string text, std::optional<SampleResult> sample);
  static StreamEvent finished(FinishReason reason, TokenUsage usage);
  static StreamEvent failed(std::string message);
};

class RequestChannel {
 public:
  void push(StreamEvent event);
  // Waits up to `timeout` for the next event.
  std::optional<StreamEvent> pop(std::chrono::milliseconds timeout);

  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<StreamEvent> events_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace llama4::server
