// Limits that keep a hostile or buggy chat template from exhausting memory, stack or time. A chat
// template comes with a downloaded model, so it is untrusted input: every limit breach is an Error
// naming the template line, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace llama4::chat {

// Nesting of parsed expressions/blocks and of JSON values (each level uses native stack).
inline constexpr int kMaxRecursionDepth = 200;
// Nesting of macro calls (a macro calling itself); each level may hold a deeply nested body.
inline constexpr int kMaxMacroCallDepth = 64;
// Work in one whole render, in steps: a loop iteration (for-loops, range(), filters that walk
// sequences) or an evaluated expression is a step, and so is every kBytesPerWorkStep bytes of a
// string an expression produces. Loop iterations alone do not bound time: one iteration may call
// macros, run nested expressions or copy megabytes. A million steps take well under a second;
// a real chat template spends a few dozen per message.
inline constexpr std::int64_t kMaxRenderSteps = 1'000'000;
inline constexpr std::int64_t kBytesPerWorkStep = 256;
// Bytes of rendered output, and of any single string built while rendering.
inline constexpr std::size_t kMaxOutputBytes = std::size_t{64} << 20;

}  // namespace llama4::chat
