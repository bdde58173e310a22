// UTF-8 helpers for the tokenizer: validation of input text (tokenizing invalid UTF-8 is refused
// with the byte offset, because a regex over Unicode classes has no defined answer for it) and
// repair of decoded bytes (tokens may end mid-character, so decoded text can be invalid UTF-8).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "util/utf8_encode.h"  // append_code_point

namespace llama4::utf8 {

// The replacement character U+FFFD, encoded.
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Result of looking at the bytes that start at one position.
struct SequenceCheck {
  enum class Kind { kValid, kInvalid, kIncomplete } kind;
  // kValid: length of the character; kInvalid: length of the maximal invalid subpart (≥ 1, the
  // bytes one U+FFFD replaces, as WHATWG and Python's errors="replace" count them); kIncomplete:
  // the bytes available, all a valid prefix of a longer character.
  std::size_t length;
};
SequenceCheck check_sequence(std::string_view bytes);

// Byte offset of the first invalid sequence, or nullopt when `text` is valid UTF-8.
std::optional<std::size_t> first_invalid_offset(std::string_view text);

// Throws llama4::Error naming `what` and the byte offset when `text` is not valid UTF-8.
void require_valid(std::string_view text, std::string_view what);

// Copy of `bytes` with every invalid or incomplete sequence replaced by U+FFFD.
std::string repair(std::string_view bytes);

}  // namespace llama4::utf8
