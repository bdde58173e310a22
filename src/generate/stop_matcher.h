// StopMatcher: finds user stop strings in streamed text that arrives in arbitrary pieces (a stop
// string may span several tokens), and holds back any tail that could still become a stop string,
// so that no part of a stop string is ever shown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llama4 {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stop_strings);

  struct Step {
    std::string text;      // safe to show now
    bool stopped = false;  // a stop string was found; `text` ends just before it
  };
  // Adds newly decoded text.
  Step push(std::string_view text);
  // The end of the stream: everything held back is released.
  std::string finish();

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

}  // namespace llama4
