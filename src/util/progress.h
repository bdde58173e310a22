// A one-line progress bar for long steps such as loading a model:
//   "\r[#########           ] 45% binding 291 tensors"
// It redraws in place with a carriage return, at most once per interval (so a fast loop does not
// flood a slow terminal), always draws the final state, and ends the line when finished. It is
// drawn only on a terminal: a bar in a log file or a pipe is noise.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace llama4 {

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kDefaultWidth = 30;  // characters between the brackets
  static constexpr std::chrono::milliseconds kDefaultInterval{100};

  // Draws on `out` when `enabled`; otherwise every call does nothing. `total` is the number of
  // units (bytes, files, stages) the bar counts; 0 is treated as 1.
  ProgressBar(std::ostream& out, std::uint64_t total, bool enabled,
              Clock::duration min_interval = kDefaultInterval, int width = kDefaultWidth);
  // Finishes the line if the caller did not (e.g. when an exception unwinds the load).
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // A bar on stderr, enabled only when stderr is a terminal and loading progress is not
  // suppressed (see set_progress_suppressed).
  static ProgressBar for_stderr(std::uint64_t total);

  // Records `done` units and what is happening now; redraws unless the last draw was less than
  // the interval ago (the first draw, and done == total, always draw).
  void update(std::uint64_t done, std::string_view detail);
  // Draws 100% with `detail` and ends the line.
  void finish(std::string_view detail);

  bool enabled() const { return enabled_; }

  // The line without the leading carriage return, e.g. "[###       ] 30% loading x" (width 10).
  static std::string render(std::uint64_t done, std::uint64_t total, std::string_view detail,
                            int width = kDefaultWidth);

 private:
  void draw(std::uint64_t done, std::string_view detail);

  std::ostream& out_;
  std::uint64_t total_;
  bool enabled_;
  Clock::duration min_interval_;
  int width_;
  bool drawn_ = false;
  bool finished_ = false;
  Clock::time_point last_draw_{};
  std::size_t last_length_ = 0;  // to blank out the rest of a longer previous line
};

// True when file descriptor 2 is a terminal.
bool stderr_is_terminal();

// Process-wide switch for progress bars on stderr (`--quiet` turns them off). Warnings are not
// affected: they say why something will be slow or fail.
void set_progress_suppressed(bool suppressed);
bool progress_suppressed();

}  // namespace llama4
