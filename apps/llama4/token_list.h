// Parsing of comma-separated token id lists given on the command line ("--ids 1,2,3").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llama4::cli {

// Throws llama4::Error naming the offending entry.
std::vector<std::int32_t> parse_token_list(const std::string& text);

}  // namespace llama4::cli
