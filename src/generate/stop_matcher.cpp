// StopMatcher implementation. Everything already released contains no stop-string prefix at its
// end, so a new match always lies entirely inside the held-back text.
#include "generate/stop_matcher.h"

#include <algorithm>

namespace llama4 {

StopMatcher::StopMatcher(std::vector<std::string> stop_strings) {
  for (auto& stop : stop_strings)
    if (!stop.empty()) stops_.push_back(std::move(stop));
}

StopMatcher::Step StopMatcher::push(std::string_view text) {
  held_ += text;
  Step step;
  std::size_t earliest = std::string::npos;
  for (const auto& stop : stops_) earliest = std::min(earliest, held_.find(stop));
  if (earliest != std::string::npos) {
    step.text = held_.substr(0, earliest);
    step.stopped = true;
    held_.clear();
    return step;
  }
  // Keep the longest tail of held_ that is a proper prefix of some stop string.
  std::size_t keep = 0;
  for (const auto& stop : stops_) {
    const std::size_t longest = std::min(stop.size() - 1, held_.size());
    for (std::size_t n = longest; n > keep; --n)
      if (held_.compare(held_.size() - n, n, stop, 0, n) == 0) {
        keep = n;
        break;
      }
  }
  step.text = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return step;
}

std::string StopMatcher::finish() {
  std::string rest;
  rest.swap(held_);
  return rest;
}

}  // namespace llama4
