// StreamingDecoder: holds back the bytes of a UTF-8 character until its last byte arrives, so a
// token stream can be printed as it is generated without ever showing half a character.
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace llama4 {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool show_special)
    : tokenizer_(&tokenizer), show_special_(show_special) {}

std::string StreamingDecoder::push(TokenId id) {
  const std::string& bytes = tokenizer_->token_bytes(id);
  if (tokenizer_->is_special(id) && !show_special_) return {};
  pending_ += bytes;
  // Emit every complete character; replace sequences that can never become valid; keep a valid
  // but incomplete tail for the next token.
  std::string out;
  std::size_t pos = 0;
  while (pos < pending_.size()) {
    const auto check = utf8::check_sequence(std::string_view(pending_).substr(pos));
    if (check.kind == utf8::SequenceCheck::Kind::kIncomplete) break;
    if (check.kind == utf8::SequenceCheck::Kind::kValid)
      out.append(pending_, pos, check.length);
    else
      out.append(utf8::kReplacement);
    pos += check.length;
  }
  pending_.erase(0, pos);
  return out;
}

std::string StreamingDecoder::flush() {
  std::string out = utf8::repair(pending_);
  pending_.clear();
  return out;
}

}  // namespace llama4
