// UTF-8 string helpers with Python str semantics (code-point indexing, str.isspace() whitespace,
// strip/split), which chat templates rely on and which differ from byte-wise std::string behaviour.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace llama4::chat {

// Byte offsets of each code point of `s`, plus s.size() at the end. Invalid UTF-8 bytes count as
// one code point each, so every input has a defined (if not Python's) answer.
std::vector<std::size_t> code_point_offsets(const std::string& s);
std::size_t code_point_count(const std::string& s);

// Python str.strip/lstrip/rstrip: without `chars`, removes Unicode whitespace (str.isspace()).
std::string python_strip(const std::string& s, bool left, bool right,
                         const std::optional<std::string>& chars = {});

// Python str.split(sep=None, maxsplit=-1).
std::vector<std::string> python_split(const std::string& s, const std::optional<std::string>& sep,
                                      long maxsplit);

// Python str.replace(old, new, count) with count < 0 meaning all; nullopt, without building it,
// when the result would be longer than `max_bytes` (a short string and a long replacement can
// ask for gigabytes).
std::optional<std::string> python_replace(const std::string& s, const std::string& from,
                                          const std::string& to, long count, std::size_t max_bytes);

// ASCII-only case mapping; other characters are kept as they are.
std::string ascii_upper(std::string s);
std::string ascii_lower(std::string s);

}  // namespace llama4::chat
