// GPT-2 bytes_to_unicode; see byte_level.h.
#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/utf8.h"

namespace llama4::byte_level {
namespace {

constexpr int kByteCount = 256;
constexpr char32_t kFirstRemapped = 0x100;  // bytes outside the printable ranges map from here on
constexpr char32_t kMappedLimit = 0x200;    // every mapped character lies below this

bool printable(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

struct Tables {
  std::array<char32_t, kByteCount> to_char{};
  std::array<std::string, kByteCount> to_text{};
  std::array<int, kMappedLimit> from_char{};  // -1 where no byte maps to the character
};

const Tables& tables() {
  static const Tables t = [] {
    Tables result;
    char32_t next = kFirstRemapped;
    for (int byte = 0; byte < kByteCount; ++byte)
      result.to_char[byte] = printable(byte) ? static_cast<char32_t>(byte) : next++;
    for (int byte = 0; byte < kByteCount; ++byte)
      utf8::append_code_point(result.to_text[byte], result.to_char[byte]);
    result.from_char.fill(-1);
    for (int byte = 0; byte < kByteCount; ++byte) result.from_char[result.to_char[byte]] = byte;
    return result;
  }();
  return t;
}

}  // namespace

std::string encode(std::string_view bytes) {
  const auto& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.to_text[static_cast<std::uint8_t>(c)];
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  const auto& t = tables();
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto check = utf8::check_sequence(text.substr(pos));
    if (check.kind != utf8::SequenceCheck::Kind::kValid) return std::nullopt;
    // Mapped characters are all below U+0180, so they take one or two bytes.
    char32_t cp;
    const auto b0 = static_cast<std::uint8_t>(text[pos]);
    if (check.length == 1) {
      cp = b0;
    } else if (check.length == 2) {
      cp = ((b0 & 0x1F) << 6) | (static_cast<std::uint8_t>(text[pos + 1]) & 0x3F);
    } else {
      return std::nullopt;
    }
    if (cp >= kMappedLimit || t.from_char[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(t.from_char[cp]));
    pos += check.length;
  }
  return out;
}

}  // namespace llama4::byte_level
