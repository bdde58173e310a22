// UTF-8 validation and repair; see utf8.h.
#include "tokenizer/utf8.h"

#include <cstdint>

#include "util/error.h"

namespace llama4::utf8 {
namespace {

// Valid range of the second byte for each lead byte (Unicode Table 3-7), which rules out overlong
// forms, surrogates and code points above U+10FFFF.
struct LeadInfo {
  std::size_t length;
  std::uint8_t second_min;
  std::uint8_t second_max;
};

std::optional<LeadInfo> lead_info(std::uint8_t lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return LeadInfo{2, 0x80, 0xBF};
  if (lead == 0xE0) return LeadInfo{3, 0xA0, 0xBF};
  if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF)
    return LeadInfo{3, 0x80, 0xBF};
  if (lead == 0xED) return LeadInfo{3, 0x80, 0x9F};
  if (lead == 0xF0) return LeadInfo{4, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return LeadInfo{4, 0x80, 0xBF};
  if (lead == 0xF4) return LeadInfo{4, 0x80, 0x8F};
  return std::nullopt;
}

bool is_continuation(std::uint8_t byte) {
  return (byte & 0xC0) == 0x80;
}

}  // namespace

SequenceCheck check_sequence(std::string_view bytes) {
  using Kind = SequenceCheck::Kind;
  const auto lead = static_cast<std::uint8_t>(bytes[0]);
  if (lead < 0x80) return {Kind::kValid, 1};
  const auto info = lead_info(lead);
  if (!info) return {Kind::kInvalid, 1};
  for (std::size_t i = 1; i < info->length; ++i) {
    if (i >= bytes.size()) return {Kind::kIncomplete, i};
    const auto byte = static_cast<std::uint8_t>(bytes[i]);
    const bool ok =
        i == 1 ? (byte >= info->second_min && byte <= info->second_max) : is_continuation(byte);
    if (!ok) return {Kind::kInvalid, i};
  }
  return {Kind::kValid, info->length};
}

std::optional<std::size_t> first_invalid_offset(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<std::uint8_t>(text[pos]) < 0x80) {  // fast path for ASCII
      ++pos;
      continue;
    }
    const auto check = check_sequence(text.substr(pos));
    if (check.kind != SequenceCheck::Kind::kValid) return pos;
    pos += check.length;
  }
  return std::nullopt;
}

void require_valid(std::string_view text, std::string_view what) {
  if (const auto offset = first_invalid_offset(text))
    throw Error(std::string(what) + ": invalid UTF-8 at byte offset " + std::to_string(*offset) +
                " (text to tokenize must be valid UTF-8)");
}

std::string repair(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto check = check_sequence(bytes.substr(pos));
    if (check.kind == SequenceCheck::Kind::kValid)
      out.append(bytes.substr(pos, check.length));
    else
      out.append(kReplacement);
    pos += check.length;
  }
  return out;
}

}  // namespace llama4::utf8
