// Prometheus text rendering of the server's counters.
#include "server/metrics.h"

#include <sstream>

namespace llama4::server {

void ServerMetrics::count_request(int status) {
  std::lock_guard lock(mutex_);
  ++requests_by_status_[status];
}

void ServerMetrics::add_step(double seconds, std::int64_t sampled_tokens) {
  std::lock_guard lock(mutex_);
  step_seconds_ += seconds;
  step_tokens_ += sampled_tokens;
  ++steps_;
}

std::int64_t ServerMetrics::requests_with_status(int status) const {
  std::lock_guard lock(mutex_);
  const auto it = requests_by_status_.find(status);
  return it == requests_by_status_.end() ? 0 : it->second;
}

std::string ServerMetrics::prometheus_text(std::int64_t slots) const {
  std::ostringstream out;
  const auto metric = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  std::lock_guard lock(mutex_);
  metric("llama4_requests_total", "counter", "HTTP requests answered, by status code.");
  for (const auto& [status, count] : requests_by_status_)
    out << "llama4_requests_total{status=\"" << status << "\"} " << count << '\n';
  metric("llama4_prompt_tokens_total", "counter", "Prompt tokens processed.");
  out << "llama4_prompt_tokens_total " << prompt_tokens_.load() << '\n';
  metric("llama4_generated_tokens_total", "counter", "Tokens generated.");
  out << "llama4_generated_tokens_total " << generated_tokens_.load() << '\n';
  metric("llama4_queue_depth", "gauge", "Requests waiting for a slot.");
  out << "llama4_queue_depth " << queue_depth_.load() << '\n';
  metric("llama4_active_slots", "gauge", "Slots generating now.");
  out << "llama4_active_slots " << active_slots_.load() << '\n';
  metric("llama4_slots", "gauge", "Slots configured (--parallel).");
  out << "llama4_slots " << slots << '\n';
  metric("llama4_batch_steps_total", "counter", "Batched forward steps run.");
  out << "llama4_batch_steps_total " << steps_ << '\n';
  metric("llama4_tokens_per_second", "gauge",
         "Tokens sampled per second of batched-step time since the start.");
  out << "llama4_tokens_per_second "
      << (step_seconds_ > 0.0 ? static_cast<double>(step_tokens_) / step_seconds_ : 0.0) << '\n';
  return out.str();
}

}  // namespace llama4::server
