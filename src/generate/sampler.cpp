// Sampler implementation: penalties and filters over a candidate list, then one seeded draw.
#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include "util/error.h"

namespace llama4 {
namespace {

// 2^-53: turns the top 53 bits of a 64-bit draw into a double in [0, 1).
constexpr double kUnitFromTop53Bits = 0x1.0p-53;
constexpr int kMantissaShift = 11;

struct Candidate {
  std::int32_t id;
  float logit;
};

// Most likely first; equal logits in id order, so results never depend on sort stability.
bool more_likely(const Candidate& a, const Candidate& b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

std::int32_t argmax(std::span<const float> values) {
  std::int32_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[static_cast<std::size_t>(best)]) best = static_cast<std::int32_t>(i);
  return best;
}

void check_settings(const SamplerSettings& s) {
  auto bad = [](const std::string& name, double value, const std::string& why) {
    throw Error("sampling setting " + name + " = " + std::to_string(value) + ": " + why);
  };
  if (!std::isfinite(s.temperature)) bad("temperature", s.temperature, "must be a finite number");
  if (!(s.top_p > 0.0f)) bad("top_p", s.top_p, "must be greater than 0");
  if (s.min_p < 0.0f || s.min_p > 1.0f) bad("min_p", s.min_p, "must be in [0, 1]");
  if (!(s.repeat_penalty > 0.0f)) bad("repeat_penalty", s.repeat_penalty, "must be greater than 0");
  if (s.top_logprobs < 0) bad("top_logprobs", s.top_logprobs, "must not be negative");
}

}  // namespace

Sampler::Sampler(SamplerSettings settings) : settings_(std::move(settings)), rng_(settings_.seed) {
  check_settings(settings_);
}

void Sampler::reset() {
  recent_.clear();
  rng_.seed(settings_.seed);
}

void Sampler::accept(std::int32_t id) {
  if (settings_.repeat_last_n == 0) return;
  recent_.push_back(id);
  if (settings_.repeat_last_n > 0 &&
      recent_.size() > static_cast<std::size_t>(settings_.repeat_last_n))
    recent_.pop_front();
}

double Sampler::next_uniform() {
  return static_cast<double>(rng_() >> kMantissaShift) * kUnitFromTop53Bits;
}

std::vector<float> Sampler::adjusted_logits(std::span<const float> logits) const {
  std::vector<float> out(logits.begin(), logits.end());
  const auto vocab = static_cast<std::int32_t>(out.size());
  for (const auto& [id, bias] : settings_.logit_bias)
    if (id >= 0 && id < vocab) out[static_cast<std::size_t>(id)] += bias;
  const bool penalize = settings_.repeat_penalty != 1.0f || settings_.presence_penalty != 0.0f ||
                        settings_.frequency_penalty != 0.0f;
  if (!penalize || recent_.empty()) return out;
  std::unordered_map<std::int32_t, int> counts;
  for (const std::int32_t id : recent_)
    if (id >= 0 && id < vocab) ++counts[id];
  for (const auto& [id, count] : counts) {
    float& logit = out[static_cast<std::size_t>(id)];
    logit = logit > 0.0f ? logit / settings_.repeat_penalty : logit * settings_.repeat_penalty;
    logit -= settings_.presence_penalty + settings_.frequency_penalty * static_cast<float>(count);
  }
  return out;
}

std::vector<TokenProbability> Sampler::distribution(std::span<const float> logits) const {
  if (logits.empty()) throw Error("sampler: empty logits row");
  const std::vector<float> adjusted = adjusted_logits(logits);
  if (settings_.temperature <= 0.0f) return {{argmax(adjusted), 1.0f}};

  std::vector<Candidate> candidates(adjusted.size());
  for (std::size_t i = 0; i < adjusted.size(); ++i)
    candidates[i] = {static_cast<std::int32_t>(i), adjusted[i] / settings_.temperature};
  std::size_t keep = candidates.size();
  if (settings_.top_k > 0 && static_cast<std::size_t>(settings_.top_k) < keep) {
    keep = static_cast<std::size_t>(settings_.top_k);
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep),
                      candidates.end(), more_likely);
  } else {
    std::sort(candidates.begin(), candidates.end(), more_likely);
  }
  candidates.resize(keep);

  // Softmax over the survivors, in double so long tails do not lose mass.
  const double max_logit = candidates.front().logit;
  std::vector<double> probs(keep);
  double total = 0.0;
  for (std::size_t i = 0; i < keep; ++i)
    total += probs[i] = std::exp(static_cast<double>(candidates[i].logit) - max_logit);
  for (double& p : probs) p /= total;

  if (settings_.top_p < 1.0f) {
    double cumulative = 0.0;
    std::size_t n = 0;
    while (n < keep) {
      cumulative += probs[n++];
      if (cumulative >= static_cast<double>(settings_.top_p)) break;
    }
    keep = n;
  }
  if (settings_.min_p > 0.0f) {
    const double threshold = static_cast<double>(settings_.min_p) * probs.front();
    std::size_t n = 1;  // the most likely token always survives
    while (n < keep && probs[n] >= threshold) ++n;
    keep = n;
  }
  const double kept_mass =
      std::accumulate(probs.begin(), probs.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
  std::vector<TokenProbability> result(keep);
  for (std::size_t i = 0; i < keep; ++i)
    result[i] = {candidates[i].id, static_cast<float>(probs[i] / kept_mass)};
  return result;
}

SampleResult Sampler::sample(std::span<const float> logits) {
  const std::vector<TokenProbability> dist = distribution(logits);
  SampleResult result;
  result.id = dist.back().id;  // fallback for rounding: the last kept token
  if (dist.size() == 1) {
    result.id = dist.front().id;
  } else {
    const double u = next_uniform();
    double cumulative = 0.0;
    for (const auto& entry : dist) {
      cumulative += entry.value;
      if (u < cumulative) {
        result.id = entry.id;
        break;
      }
    }
  }

  // log-softmax of the raw logits.
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double total = 0.0;
  for (const float logit : logits) total += std::exp(static_cast<double>(logit - max_logit));
  const double log_total = std::log(total) + max_logit;
  result.logprob = static_cast<float>(logits[static_cast<std::size_t>(result.id)] - log_total);
  if (settings_.top_logprobs > 0) {
    std::vector<Candidate> all(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i)
      all[i] = {static_cast<std::int32_t>(i), logits[i]};
    const std::size_t n = std::min(all.size(), static_cast<std::size_t>(settings_.top_logprobs));
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      more_likely);
    for (std::size_t i = 0; i < n; ++i)
      result.top_logprobs.push_back({all[i].id, static_cast<float>(all[i].logit - log_total)});
  }
  return result;
}

}  // namespace llama4
