// Per-part timing of the forward pass; see part_profile.h.
#include "kernels/part_profile.h"

#include <algorithm>

#include "kernels/matrix_traffic.h"
#include "util/error.h"

namespace llama4 {
namespace {

thread_local PartProfile* recording = nullptr;

}  // namespace

PartProfile::PartProfile() {
  if (recording != nullptr) throw Error("a part profile is already recording on this thread");
  recording = this;
}

PartProfile::~PartProfile() {
  recording = nullptr;
}

std::size_t PartProfile::index_of(const char* name) {
  const auto found = std::find_if(parts_.begin(), parts_.end(),
                                  [&](const PartTotals& p) { return p.name == name; });
  if (found != parts_.end()) return static_cast<std::size_t>(found - parts_.begin());
  parts_.push_back(PartTotals{name});
  return parts_.size() - 1;
}

PartScope::PartScope(const char* name) : profile_(recording) {
  if (profile_ == nullptr) return;
  index_ = profile_->index_of(name);
  outer_ = profile_->current_;
  profile_->current_ = static_cast<std::int64_t>(index_);
  start_ = std::chrono::steady_clock::now();
}

PartScope::~PartScope() {
  if (profile_ == nullptr) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  profile_->parts_[index_].seconds += elapsed.count();
  profile_->current_ = outer_;
}

void count_product(const Matrix& w, std::int64_t n_tokens) {
  if (recording == nullptr || recording->current_ < 0) return;
  PartTotals& part = recording->parts_[static_cast<std::size_t>(recording->current_)];
  part.weight_bytes += matrix_bytes(w);
  part.flops += 2.0 * static_cast<double>(matrix_parameters(w)) * static_cast<double>(n_tokens);
}

}  // namespace llama4
