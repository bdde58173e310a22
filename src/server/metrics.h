// ServerMetrics: the counters and gauges GET /metrics reports in Prometheus text format — requests
// by status, prompt and generated tokens, queue depth, active slots and generation throughput.
// Every member is safe to update from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace llama4::server {

class ServerMetrics {
 public:
  void count_request(int status);
  void add_prompt_tokens(std::int64_t n) { prompt_tokens_ += n; }
  void add_generated_tokens(std::int64_t n) { generated_tokens_ += n; }
  // One batched step of the model: how long it took and how many tokens it sampled.
  void add_step(double seconds, std::int64_t sampled_tokens);
  void set_queue_depth(std::int64_t n) { queue_depth_ = n; }
  void set_active_slots(std::int64_t n) { active_slots_ = n; }

  std::int64_t active_slots() const { return active_slots_; }
  std::int64_t queue_depth() const { return queue_depth_; }
  std::int64_t requests_with_status(int status) const;

  // Prometheus text exposition format (version 0.0.4); `slots` is the configured --parallel.
  std::string prometheus_text(std::int64_t slots) const;

 private:
  mutable std::mutex mutex_;
  std::map<int, std::int64_t> requests_by_status_;
  double step_seconds_ = 0.0;
  std::int64_t step_tokens_ = 0;
  std::int64_t steps_ = 0;
  std::atomic<std::int64_t> prompt_tokens_{0};
  std::atomic<std::int64_t> generated_tokens_{0};
  std::atomic<std::int64_t> queue_depth_{0};
  std::atomic<std::int64_t> active_slots_{0};
};

}  // namespace llama4::server
