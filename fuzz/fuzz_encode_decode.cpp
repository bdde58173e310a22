// Fuzz target: encode/decode on a small real vocabulary (the demo model's byte-level BPE, written
// once at start-up). Checks round trips: decode(encode(text)) == text for valid UTF-8 text, and the
// streaming decoder yields exactly what decode() does. Arbitrary id lists must decode or give an
// Error.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "generate/demo_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

const llama4::Tokenizer& demo_tokenizer() {
  static const llama4::Tokenizer tokenizer = [] {
    const auto dir = llama4::fuzz::scratch_dir() / "demo-tokenizer";
    std::filesystem::create_directories(dir);
    llama4::write_demo_tokenizer(dir);
    return llama4::Tokenizer::load(dir);
  }();
  return tokenizer;
}

void check_round_trip(const llama4::Tokenizer& tokenizer, std::string_view text, bool special) {
  const auto ids = tokenizer.encode(text, {.add_bos = false, .parse_special = special});
  if (tokenizer.decode(ids) != text) std::abort();
  llama4::StreamingDecoder stream(tokenizer, /*show_special=*/true);
  std::string streamed;
  for (const llama4::TokenId id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  if (streamed != text) std::abort();
}

void decode_raw_ids(const llama4::Tokenizer& tokenizer, const std::uint8_t* data,
                    std::size_t size) {
  std::vector<llama4::TokenId> ids(size / sizeof(llama4::TokenId));
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * sizeof(llama4::TokenId));
  llama4::fuzz::expect_only_llama4_errors([&] {
    const std::string text = tokenizer.decode(ids, /*skip_special=*/size % 2 == 0);
    if (llama4::utf8::first_invalid_offset(text)) std::abort();  // decode always repairs
  });
  llama4::fuzz::expect_only_llama4_errors([&] {
    llama4::StreamingDecoder stream(tokenizer);
    std::string text;
    for (const llama4::TokenId id : ids) text += stream.push(id);
    text += stream.flush();
    if (llama4::utf8::first_invalid_offset(text)) std::abort();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const llama4::Tokenizer& tokenizer = demo_tokenizer();
  const std::string_view text = llama4::fuzz::as_text(data, size);
  if (llama4::utf8::first_invalid_offset(text)) {
    // Invalid UTF-8 is refused with an Error, never tokenized.
    bool refused = false;
    try {
      (void)tokenizer.encode(text);
    } catch (const llama4::Error&) {
      refused = true;
    }
    if (!refused) std::abort();
  } else {
    check_round_trip(tokenizer, text, /*special=*/false);
    check_round_trip(tokenizer, text, /*special=*/true);
  }
  decode_raw_ids(tokenizer, data, size);
  return 0;
}
