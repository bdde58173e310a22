// Strict base64 (RFC 4648 standard alphabet, '=' padding) for tiktoken rank files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llama4 {

// nullopt when `text` is not canonical padded base64 (bad character, length not a multiple of 4,
// misplaced padding).
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace llama4
