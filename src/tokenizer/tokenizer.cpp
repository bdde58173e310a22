// Tokenizer: loading dispatch, encoding (added tokens → pre-tokenizer → BPE) and decoding.
//
// Invalid UTF-8 input: encode() throws Error with the byte offset of the first invalid sequence.
// The pre-tokenizer's Unicode classes have no meaning for such bytes, and the reference tokenizers
// only accept Unicode strings, so there is no reference answer to match.
#include "tokenizer/tokenizer.h"

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace llama4 {
namespace fs = std::filesystem;

namespace {
constexpr const char* kJsonFile = "tokenizer.json";
constexpr const char* kModelFile = "tokenizer.model";
}  // namespace

void Tokenizer::Impl::add_token(const std::string& content, TokenId id, bool is_special) {
  if (content.empty()) throw Error("added token " + std::to_string(id) + " has empty content");
  if (id < 0) throw Error("added token '" + content + "' has a negative id");
  if (id > kMaxTokenId)
    throw Error("added token '" + content + "' has id " + std::to_string(id) +
                ", above the limit of " + std::to_string(kMaxTokenId));
  added.add(content, id, is_special);
  added_ids.emplace(content, id);
  added_list.emplace_back(id, is_special);
}

void Tokenizer::Impl::finish() {
  id_bytes = bpe.tokens();
  special.assign(id_bytes.size(), false);
  for (const auto& [content, id] : added_ids) {
    if (static_cast<std::size_t>(id) >= id_bytes.size()) {
      id_bytes.resize(id + 1);
      special.resize(id + 1, false);
    }
    id_bytes[id] = content;
  }
  for (const auto& [id, is_special] : added_list) special[id] = is_special;
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

bool Tokenizer::available(const fs::path& model_dir) {
  std::error_code ec;
  return fs::is_regular_file(model_dir / kJsonFile, ec) ||
         fs::is_regular_file(model_dir / kModelFile, ec);
}

Tokenizer Tokenizer::load(const fs::path& path) {
  std::error_code ec;
  fs::path file = path;
  if (fs::is_directory(path, ec)) {
    if (fs::is_regular_file(path / kJsonFile, ec))
      file = path / kJsonFile;
    else if (fs::is_regular_file(path / kModelFile, ec))
      file = path / kModelFile;
    else
      throw Error(path.string() + ": no tokenizer.json or tokenizer.model in this folder");
  } else if (!fs::is_regular_file(path, ec)) {
    throw Error(path.string() + ": tokenizer file not found");
  }
  const bool is_json = file.extension() == ".json";
  std::unique_ptr<Impl> impl = is_json ? load_tokenizer_json(file) : load_tiktoken(file);
  read_tokenizer_config(file.parent_path(), impl->settings);
  if (impl->settings.bos_token) {
    const auto it = impl->added_ids.find(*impl->settings.bos_token);
    if (it != impl->added_ids.end()) impl->bos = it->second;
  }
  return Tokenizer(std::move(impl));
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  utf8::require_valid(text, "encode");
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_bos) {
    if (!impl_->bos) throw Error("encode: BOS requested but this tokenizer has no BOS token");
    ids.push_back(*impl_->bos);
  }
  auto encode_ordinary = [&](std::string_view part) {
    impl_->pre.split(part, [&](std::string_view piece) { impl_->bpe.encode_piece(piece, ids); });
  };
  if (!options.parse_special && !impl_->added.has_non_special()) {
    encode_ordinary(text);
    return ids;
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto match = impl_->added.find(text, pos, options.parse_special);
    const std::size_t stop = match ? match->begin : text.size();
    encode_ordinary(text.substr(pos, stop - pos));
    if (!match) break;
    ids.push_back(match->id);
    pos = match->begin + match->length;
  }
  return ids;
}

const std::string& Tokenizer::token_bytes(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= impl_->id_bytes.size() ||
      (impl_->id_bytes[id].empty()))
    throw Error("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                std::to_string(impl_->id_bytes.size()) + ")");
  return impl_->id_bytes[id];
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  std::string bytes;
  for (const TokenId id : ids) {
    const std::string& piece = token_bytes(id);
    if (skip_special && impl_->special[id]) continue;
    bytes += piece;
  }
  return utf8::repair(bytes);
}

std::optional<TokenId> Tokenizer::token_id(std::string_view special_or_piece) const {
  if (const auto it = impl_->added_ids.find(std::string(special_or_piece));
      it != impl_->added_ids.end())
    return it->second;
  const TokenId id = impl_->bpe.find(special_or_piece);
  if (id < 0) return std::nullopt;
  return id;
}

bool Tokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<std::size_t>(id) < impl_->special.size() && impl_->special[id];
}

std::size_t Tokenizer::vocab_size() const {
  return impl_->id_bytes.size();
}
std::optional<TokenId> Tokenizer::bos_id() const {
  return impl_->bos;
}
const TokenizerSettings& Tokenizer::settings() const {
  return impl_->settings;
}

}  // namespace llama4
