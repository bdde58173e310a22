// Scheduler: continuous batching. One worker thread owns the model; up to `parallel` slots each
// hold one request's InferenceState (its own KV caches). Every step runs ONE forward_batch over all
// active slots — new prompts' prefill rows next to the others' single decode tokens — samples each
// slot's next token and hands the text to that request's RequestChannel. Queued requests take a
// slot the moment one frees up; a cancelled request frees its slot at the next step. Because the
// model computes each sequence's logits independently of the batch, a request's output does not
// depend on what else runs with it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "generate/sampler.h"
#include "model/model.h"
#include "server/metrics.h"
#include "server/request_channel.h"
#include "tokenizer/tokenizer.h"

namespace llama4::server {

struct SchedulerOptions {
  std::int64_t parallel = 4;         // slots
  std::int64_t context_size = 0;     // per slot
  KvType kv_type = KvType::kF32;     // element type of every slot's KV cache
  std::int64_t max_queue = 64;       // waiting requests beyond the slots
  std::int64_t prefill_chunk = 512;  // prompt tokens a slot feeds per step (keeps others moving)
  std::vector<std::int32_t> end_token_ids;
};

// One request's generation, as the HTTP layer parsed it.
struct GenerationJob {
  std::vector<std::int32_t> prompt;  // non-empty, shorter than the context
  std::int64_t max_tokens = 0;       // ≥ 1
  std::vector<std::string> stop_strings;
  SamplerSettings sampling;
};

class Scheduler {
 public:
  // `model`, `tokenizer` and `metrics` must outlive the scheduler. Starts the worker thread.
  Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerOptions options,
            ServerMetrics& metrics);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job; its events arrive on the returned channel. Throws ApiError 503 when the queue
  // is full or the scheduler is shutting down.
  std::shared_ptr<RequestChannel> submit(GenerationJob job);

  // Stops admitting; requests still queued or running are ended (finish_reason "length") within
  // the next step, so their streams close cleanly. Joins the worker.
  void shutdown();

  const SchedulerOptions& options() const { return options_; }

 private:
  struct Pending {
    GenerationJob job;
    std::shared_ptr<RequestChannel> channel;
  };
  struct Slot;

  void run();
  void admit(std::vector<std::unique_ptr<Slot>>& slots);
  void step(std::vector<std::unique_ptr<Slot>>& slots);
  // Samples the slot's next token from its logits and applies the end checks.
  void sample_next(Slot& slot);
  // Sends what the stop matcher still holds (unless a stop string ended it) and the final event,
  // and frees the slot.
  void finish(Slot& slot, FinishReason reason, bool stopped_by_string);
  void fail(Slot& slot, const std::string& message);

  const Model& model_;
  const Tokenizer& tokenizer_;
  SchedulerOptions options_;
  ServerMetrics& metrics_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace llama4::server
