// RequestChannel: a mutex-guarded queue with a condition variable.
#include "server/request_channel.h"

namespace llama4::server {

const char* finish_reason_name(FinishReason reason) {
  return reason == FinishReason::kLength ? "length" : "stop";
}

StreamEvent StreamEvent::text_piece(std::string text, std::optional<SampleResult> sample) {
  StreamEvent event;
  event.text = std::move(text);
  event.sample = std::move(sample);
  return event;
}

StreamEvent StreamEvent::finished(FinishReason reason, TokenUsage usage) {
  StreamEvent event;
  event.kind = Kind::kFinished;
  event.finish = reason;
  event.usage = usage;
  return event;
}

StreamEvent StreamEvent::failed(std::string message) {
  StreamEvent event;
  event.kind = Kind::kFailed;
  event.error = std::move(message);
  return event;
}

void RequestChannel::push(StreamEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

std::optional<StreamEvent> RequestChannel::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
  StreamEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace llama4::server
