// GPT-2's byte ↔ printable-character mapping (`bytes_to_unicode`), which tokenizer.json uses to
// store byte-level BPE tokens as JSON strings: printable Latin-1 bytes map to themselves, the other
// 68 bytes to U+0100 onwards.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llama4::byte_level {

// Byte string → the mapped text (UTF-8).
std::string encode(std::string_view bytes);

// Mapped text → bytes; nullopt when a character is not in the mapping.
std::optional<std::string> decode(std::string_view text);

}  // namespace llama4::byte_level
