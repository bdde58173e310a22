// Loader for Meta's tiktoken `tokenizer.model` (200,000 lines "base64(bytes) rank") plus the
// Llama 4 special tokens, numbered from the count of base tokens as Meta's tokenizer.py does.
#include <charconv>
#include <fstream>
#include <sstream>

#include "tokenizer/base64.h"
#include "tokenizer/llama4_special_tokens.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace llama4 {
namespace {

// Far above any real vocabulary; guards the allocation against a corrupt rank.
constexpr std::int64_t kMaxRank = std::int64_t{16} * 1024 * 1024;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

}  // namespace

std::vector<std::string> read_tiktoken_ranks(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::vector<std::string> tokens;
  std::vector<std::size_t> line_of_rank;
  std::size_t line_start = 0;
  std::size_t line_number = 0;
  auto fail = [&](const std::string& why) -> void {
    throw Error(path.string() + ":" + std::to_string(line_number) + ": " + why);
  };
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    ++line_number;
    std::string_view line(text.data() + line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
      fail("expected 'base64 rank', got '" + std::string(line.substr(0, 80)) + "'");
    auto bytes = base64_decode(line.substr(0, space));
    if (!bytes) fail("invalid base64 '" + std::string(line.substr(0, space)) + "'");
    const std::string_view rank_text = line.substr(space + 1);
    std::int64_t rank = -1;
    const auto [ptr, ec] =
        std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || ptr != rank_text.data() + rank_text.size() || rank < 0 ||
        rank >= kMaxRank)
      fail("invalid rank '" + std::string(rank_text) + "'");
    if (static_cast<std::size_t>(rank) >= tokens.size()) {
      tokens.resize(rank + 1);
      line_of_rank.resize(rank + 1);
    }
    if (!tokens[rank].empty())
      fail("duplicate rank " + std::to_string(rank) + " (first on line " +
           std::to_string(line_of_rank[rank]) + ")");
    tokens[rank] = std::move(*bytes);
    line_of_rank[rank] = line_number;
  }
  if (tokens.empty()) throw Error(path.string() + ": no ranks in the file");
  const BytesIndex index(tokens);
  if (const auto dup = index.first_duplicate()) {
    const TokenId first = index.find(tokens[*dup]);
    throw Error(path.string() + ":" + std::to_string(line_of_rank[*dup]) + ": rank " +
                std::to_string(*dup) + " repeats the bytes of rank " + std::to_string(first) +
                " (line " + std::to_string(line_of_rank[first]) + ")");
  }
  return tokens;
}

std::unique_ptr<Tokenizer::Impl> load_tiktoken(const std::filesystem::path& model_file) {
  std::vector<std::string> tokens = read_tiktoken_ranks(model_file);
  std::size_t base_count = 0;
  for (const auto& t : tokens) base_count += !t.empty();
  BpeModel model = [&] {
    try {
      return BpeModel::from_ranks(std::move(tokens));
    } catch (const Error& e) {
      rethrow_with_context(model_file.string(), e);
    }
  }();
  auto impl = std::make_unique<Tokenizer::Impl>(std::move(model), PreTokenizer(kO200kPattern));
  const auto& names = llama4_special_tokens();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto id = static_cast<TokenId>(base_count + i);
    if (static_cast<std::size_t>(id) < impl->bpe.tokens().size() && !impl->bpe.tokens()[id].empty())
      throw Error(model_file.string() + ": ranks are not dense, so special token " + names[i] +
                  " (id " + std::to_string(id) + ") collides with a base token");
    impl->add_token(names[i], id, /*special=*/true);
  }
  impl->finish();
  impl->bos = impl->added_ids.at(kLlama4BosToken);
  impl->settings.bos_token = kLlama4BosToken;
  impl->settings.eos_token = kLlama4EotToken;
  impl->settings.add_bos_token = true;
  return impl;
}

}  // namespace llama4
