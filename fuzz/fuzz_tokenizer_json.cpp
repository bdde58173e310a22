// Fuzz target: Hugging Face `tokenizer.json` loading, through Tokenizer::load as the CLI uses it.
// A tokenizer that loads must encode and decode a short text.
#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = llama4::fuzz::scratch_dir() / "tokenizer.json";
  llama4::fuzz::write_file(path, llama4::fuzz::as_text(data, size));
  llama4::fuzz::expect_only_llama4_errors([&] {
    const llama4::Tokenizer tokenizer = llama4::Tokenizer::load(path);
    const auto ids =
        tokenizer.encode("Hello, world <|eot|>", {.add_bos = true, .parse_special = true});
    (void)tokenizer.decode(ids);
  });
  return 0;
}
