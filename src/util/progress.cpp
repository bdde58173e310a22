// ProgressBar: rendering, rate limiting and the terminal check; see progress.h.
#include "util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>

namespace llama4 {
namespace {

constexpr int kPercent = 100;
constexpr char kFilled = '#';
constexpr char kEmpty = ' ';

std::atomic<bool> g_progress_suppressed{false};

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, std::uint64_t total, bool enabled,
                         Clock::duration min_interval, int width)
    : out_(out),
      total_(std::max<std::uint64_t>(total, 1)),
      enabled_(enabled),
      min_interval_(min_interval),
      width_(std::max(width, 1)) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && drawn_ && !finished_) {
    out_ << '\n';
    out_.flush();
  }
}

ProgressBar ProgressBar::for_stderr(std::uint64_t total) {
  return ProgressBar(std::cerr, total, stderr_is_terminal() && !progress_suppressed());
}

std::string ProgressBar::render(std::uint64_t done, std::uint64_t total, std::string_view detail,
                                int width) {
  total = std::max<std::uint64_t>(total, 1);
  done = std::min(done, total);
  width = std::max(width, 1);
  const auto filled = static_cast<std::size_t>(done * static_cast<std::uint64_t>(width) / total);
  const auto percent = static_cast<int>(done * kPercent / total);
  std::string line = "[";
  line.append(filled, kFilled);
  line.append(static_cast<std::size_t>(width) - filled, kEmpty);
  line += "] ";
  const std::string number = std::to_string(percent);
  line.append(3 - std::min<std::size_t>(number.size(), 3), ' ');  // align 5% / 45% / 100%
  line += number + "%";
  if (!detail.empty()) {
    line += ' ';
    line += detail;
  }
  return line;
}

void ProgressBar::update(std::uint64_t done, std::string_view detail) {
  if (!enabled_ || finished_) return;
  const Clock::time_point now = Clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < min_interval_) return;
  last_draw_ = now;
  draw(done, detail);
}

void ProgressBar::finish(std::string_view detail) {
  if (!enabled_ || finished_) return;
  draw(total_, detail);
  out_ << '\n';
  out_.flush();
  finished_ = true;
}

void ProgressBar::draw(std::uint64_t done, std::string_view detail) {
  const std::string line = render(done, total_, detail, width_);
  out_ << '\r' << line;
  // Blank out what remains of a longer previous line.
  if (line.size() < last_length_) out_ << std::string(last_length_ - line.size(), ' ');
  last_length_ = line.size();
  out_.flush();
  drawn_ = true;
}

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

void set_progress_suppressed(bool suppressed) {
  g_progress_suppressed = suppressed;
}

bool progress_suppressed() {
  return g_progress_suppressed;
}

}  // namespace llama4
