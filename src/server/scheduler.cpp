// Scheduler implementation: the worker loop (admit → one batched forward → sample per slot) and
// the per-slot end checks, which follow Generator::generate step for step so that a request gives
// the same tokens here as `llama4 generate` does alone.
#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "generate/stop_matcher.h"
#include "server/api_error.h"
#include "util/error.h"

namespace llama4::server {

struct Scheduler::Slot {
  Slot(const Model& model, std::int64_t context, KvType kv_type) : state(model, context, kv_type) {}

  InferenceState state;
  bool busy = false;
  GenerationJob job;
  std::shared_ptr<RequestChannel> channel;
  std::optional<Sampler> sampler;
  std::optional<StreamingDecoder> decoder;
  std::optional<StopMatcher> stops;
  std::size_t prefilled = 0;         // prompt tokens already in the caches
  std::int32_t next_token[1] = {0};  // the sampled token the next step feeds
  std::int64_t generated = 0;
  std::vector<float> logits;
};

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Scheduler::Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerOptions options,
                     ServerMetrics& metrics)
    : model_(model), tokenizer_(tokenizer), options_(std::move(options)), metrics_(metrics) {
  if (options_.parallel < 1) throw Error("--parallel must be at least 1");
  if (options_.max_queue < 0) throw Error("--max-queue must not be negative");
  if (options_.prefill_chunk < 1) throw Error("prefill chunk must be at least 1");
  worker_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  shutdown();
}

std::shared_ptr<RequestChannel> Scheduler::submit(GenerationJob job) {
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard lock(mutex_);
    if (stopping_)
      throw ApiError(kStatusUnavailable, "the server is shutting down", "server_error", {},
                     "shutting_down");
    if (static_cast<std::int64_t>(queue_.size()) >= options_.max_queue)
      throw ApiError(kStatusUnavailable,
                     "the server is overloaded: " + std::to_string(options_.max_queue) +
                         " requests are already waiting (--max-queue); retry later",
                     "server_error", {}, "overloaded");
    queue_.push_back({std::move(job), channel});
    metrics_.set_queue_depth(static_cast<std::int64_t>(queue_.size()));
  }
  wake_.notify_one();
  return channel;
}

void Scheduler::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

void Scheduler::run() {
  std::vector<std::unique_ptr<Slot>> slots;
  for (std::int64_t i = 0; i < options_.parallel; ++i)
    slots.push_back(std::make_unique<Slot>(model_, options_.context_size, options_.kv_type));
  const auto any_busy = [&] {
    return std::any_of(slots.begin(), slots.end(), [](const auto& s) { return s->busy; });
  };

  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || any_busy(); });
      if (stopping_) {
        // End everything cleanly: running requests keep the text they have, queued ones get none.
        for (auto& slot : slots)
          if (slot->busy) finish(*slot, FinishReason::kLength, false);
        for (Pending& p : queue_)
          p.channel->push(StreamEvent::finished(
              FinishReason::kLength, {static_cast<std::int64_t>(p.job.prompt.size()), 0}));
        queue_.clear();
        metrics_.set_queue_depth(0);
        metrics_.set_active_slots(0);
        return;
      }
      admit(slots);
    }
    step(slots);
  }
}

void Scheduler::admit(std::vector<std::unique_ptr<Slot>>& slots) {
  for (auto& slot : slots) {
    if (slot->busy) continue;
    while (!queue_.empty() && queue_.front().channel->cancelled()) queue_.pop_front();
    if (queue_.empty()) break;
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    Slot& s = *slot;
    s.state.reset();
    s.job = std::move(pending.job);
    s.channel = std::move(pending.channel);
    s.sampler.emplace(s.job.sampling);
    for (const std::int32_t id : s.job.prompt) s.sampler->accept(id);
    s.decoder.emplace(tokenizer_);
    s.stops.emplace(s.job.stop_strings);
    s.prefilled = 0;
    s.generated = 0;
    s.busy = true;
    metrics_.add_prompt_tokens(static_cast<std::int64_t>(s.job.prompt.size()));
  }
  metrics_.set_queue_depth(static_cast<std::int64_t>(queue_.size()));
  metrics_.set_active_slots(
      std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s->busy; }));
}

void Scheduler::step(std::vector<std::unique_ptr<Slot>>& slots) {
  std::vector<SequenceStep> steps;
  std::vector<Slot*> members;
  std::vector<std::size_t> chunk_sizes;
  for (auto& slot_ptr : slots) {
    Slot& slot = *slot_ptr;
    if (!slot.busy) continue;
    if (slot.channel->cancelled()) {  // the client went away: free the slot now
      slot.busy = false;
      slot.channel.reset();
      continue;
    }
    const std::size_t prompt_size = slot.job.prompt.size();
    if (slot.prefilled < prompt_size) {
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options_.prefill_chunk),
                                                  prompt_size - slot.prefilled);
      const bool last = slot.prefilled + n == prompt_size;
      steps.push_back({std::span<const std::int32_t>(slot.job.prompt).subspan(slot.prefilled, n),
                       &slot.state, last ? LogitsFor::kLastPosition : LogitsFor::kNone,
                       last ? &slot.logits : nullptr});
      chunk_sizes.push_back(n);
    } else {
      steps.push_back({slot.next_token, &slot.state, LogitsFor::kLastPosition, &slot.logits});
      chunk_sizes.push_back(0);
    }
    members.push_back(&slot);
  }
  metrics_.set_active_slots(
      std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s->busy; }));
  if (steps.empty()) return;

  const auto start = Clock::now();
  try {
    model_.forward_batch(steps);
  } catch (const std::exception& e) {
    for (Slot* slot : members) fail(*slot, std::string("the model failed: ") + e.what());
    return;
  }
  std::int64_t sampled = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    Slot& slot = *members[i];
    slot.prefilled += chunk_sizes[i];
    if (steps[i].which == LogitsFor::kNone) continue;  // more prompt to feed
    try {
      sample_next(slot);
      ++sampled;
    } catch (const std::exception& e) {
      fail(slot, std::string("sampling failed: ") + e.what());
    }
  }
  metrics_.add_step(std::chrono::duration<double>(Clock::now() - start).count(), sampled);
  metrics_.add_generated_tokens(sampled);
  metrics_.set_active_slots(
      std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s->busy; }));
}

void Scheduler::sample_next(Slot& slot) {
  const SampleResult sample = slot.sampler->sample(slot.logits);
  ++slot.generated;
  slot.sampler->accept(sample.id);
  const auto& ends = options_.end_token_ids;
  if (std::find(ends.begin(), ends.end(), sample.id) != ends.end()) {
    finish(slot, FinishReason::kStop, false);
    return;
  }
  const StopMatcher::Step checked = slot.stops->push(slot.decoder->push(sample.id));
  slot.channel->push(StreamEvent::text_piece(checked.text, sample));
  if (checked.stopped) {
    finish(slot, FinishReason::kStop, true);
  } else if (slot.generated >= slot.job.max_tokens ||
             slot.state.position() >= slot.state.context_size()) {
    finish(slot, FinishReason::kLength, false);
  } else {
    slot.next_token[0] = sample.id;
  }
}

void Scheduler::finish(Slot& slot, FinishReason reason, bool stopped_by_string) {
  if (!stopped_by_string) {
    const StopMatcher::Step tail = slot.stops->push(slot.decoder->flush());
    std::string rest = tail.text;
    if (tail.stopped)
      reason = FinishReason::kStop;
    else
      rest += slot.stops->finish();
    if (!rest.empty()) slot.channel->push(StreamEvent::text_piece(rest, std::nullopt));
  }
  slot.channel->push(StreamEvent::finished(
      reason, {static_cast<std::int64_t>(slot.job.prompt.size()), slot.generated}));
  slot.busy = false;
  slot.channel.reset();
}

void Scheduler::fail(Slot& slot, const std::string& message) {
  slot.channel->push(StreamEvent::failed(message));
  slot.busy = false;
  slot.channel.reset();
}

}  // namespace llama4::server
