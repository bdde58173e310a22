// UTF-8 string helpers with Python str semantics; see template_text.h.
#include "chat/template_text.h"

#include <algorithm>
#include <cctype>

namespace llama4::chat {
namespace {

// Length of the UTF-8 sequence starting with `lead`, or 1 for a byte that cannot start one.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes the code point at s[pos] (returns its byte length in *length); invalid → the byte value.
char32_t decode_at(const std::string& s, std::size_t pos, std::size_t* length) {
  const auto lead = static_cast<unsigned char>(s[pos]);
  std::size_t n = sequence_length(lead);
  if (pos + n > s.size()) n = 1;
  for (std::size_t i = 1; i < n; ++i)
    if ((static_cast<unsigned char>(s[pos + i]) & 0xC0) != 0x80) n = 1;
  *length = n;
  if (n == 1) return lead;
  static constexpr unsigned char kLeadMask[] = {0, 0, 0x1F, 0x0F, 0x07};
  char32_t cp = lead & kLeadMask[n];
  for (std::size_t i = 1; i < n; ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  return cp;
}

// Python str.isspace() for a single code point.
bool is_python_space(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return true;
  if (c < 0x80) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Code points of `s` with their byte ranges.
struct CodePoint {
  char32_t value;
  std::size_t begin;
  std::size_t end;
};
std::vector<CodePoint> decode(const std::string& s) {
  std::vector<CodePoint> out;
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t length = 0;
    const char32_t cp = decode_at(s, pos, &length);
    out.push_back({cp, pos, pos + length});
    pos += length;
  }
  return out;
}

}  // namespace

std::vector<std::size_t> code_point_offsets(const std::string& s) {
  std::vector<std::size_t> offsets;
  for (const auto& cp : decode(s)) offsets.push_back(cp.begin);
  offsets.push_back(s.size());
  return offsets;
}

std::size_t code_point_count(const std::string& s) {
  return code_point_offsets(s).size() - 1;
}

std::string python_strip(const std::string& s, bool left, bool right,
                         const std::optional<std::string>& chars) {
  const auto points = decode(s);
  std::vector<char32_t> strip_set;
  if (chars) {
    for (const auto& cp : decode(*chars)) strip_set.push_back(cp.value);
  }
  const auto strippable = [&](char32_t c) {
    return chars ? std::find(strip_set.begin(), strip_set.end(), c) != strip_set.end()
                 : is_python_space(c);
  };
  std::size_t first = 0;
  std::size_t last = points.size();
  if (left)
    while (first < last && strippable(points[first].value)) ++first;
  if (right)
    while (last > first && strippable(points[last - 1].value)) --last;
  if (first == last) return "";
  return s.substr(points[first].begin, points[last - 1].end - points[first].begin);
}

std::vector<std::string> python_split(const std::string& s, const std::optional<std::string>& sep,
                                      long maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<long>(parts.size()) < maxsplit) {
      const auto found = s.find(*sep, start);
      if (found == std::string::npos) break;
      parts.push_back(s.substr(start, found - start));
      start = found + sep->size();
    }
    parts.push_back(s.substr(start));
    return parts;
  }
  // Whitespace split: runs of whitespace separate, no empty strings at the ends.
  const auto points = decode(s);
  std::size_t i = 0;
  while (i < points.size()) {
    while (i < points.size() && is_python_space(points[i].value)) ++i;
    if (i == points.size()) break;
    if (maxsplit >= 0 && static_cast<long>(parts.size()) == maxsplit) {
      // The remainder, with trailing whitespace removed, is the last part.
      parts.push_back(python_strip(s.substr(points[i].begin), false, true));
      break;
    }
    const std::size_t begin = points[i].begin;
    while (i < points.size() && !is_python_space(points[i].value)) ++i;
    parts.push_back(s.substr(begin, (i < points.size() ? points[i].begin : s.size()) - begin));
  }
  return parts;
}

std::optional<std::string> python_replace(const std::string& s, const std::string& from,
                                          const std::string& to, long count,
                                          std::size_t max_bytes) {
  std::string out;
  const auto append = [&](const std::string& piece) {
    if (piece.size() > max_bytes - out.size()) return false;
    out += piece;
    return true;
  };
  if (from.empty()) {
    // Python inserts `to` before every code point and at the end.
    const auto offsets = code_point_offsets(s);
    long done = 0;
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      if (count < 0 || done < count) {
        if (!append(to)) return std::nullopt;
        ++done;
      }
      if (!append(s.substr(offsets[i], offsets[i + 1] - offsets[i]))) return std::nullopt;
    }
    if ((count < 0 || done < count) && !append(to)) return std::nullopt;
    return out;
  }
  std::size_t start = 0;
  long done = 0;
  while (count < 0 || done < count) {
    const auto found = s.find(from, start);
    if (found == std::string::npos) break;
    if (!append(s.substr(start, found - start)) || !append(to)) return std::nullopt;
    start = found + from.size();
    ++done;
  }
  if (!append(s.substr(start))) return std::nullopt;
  return out;
}

std::string ascii_upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace llama4::chat
