// Error type for every failure caused by input (files, config fields, prompts, requests).
// Messages always carry their context — which file, field or tensor, the value found and why it is
// wrong — because the person reading them usually cannot attach a debugger to a download.
#pragma once

#include <stdexcept>
#include <string>

namespace llama4 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Prefixes `context: ` to the message of an Error, keeping its type, e.g. to name the file.
[[noreturn]] inline void rethrow_with_context(const std::string& context, const Error& e) {
  throw Error(context + ": " + e.what());
}

}  // namespace llama4
