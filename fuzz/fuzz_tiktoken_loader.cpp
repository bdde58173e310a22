// Fuzz target: Meta's tiktoken `tokenizer.model` loader (base64 ranks + Llama 4 special tokens),
// through Tokenizer::load as the CLI uses it. A tokenizer that loads must encode a short text.
#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = llama4::fuzz::scratch_dir() / "tokenizer.model";
  llama4::fuzz::write_file(path, llama4::fuzz::as_text(data, size));
  llama4::fuzz::expect_only_llama4_errors([&] {
    const llama4::Tokenizer tokenizer = llama4::Tokenizer::load(path);
    const auto ids = tokenizer.encode("ab <|eot|>", {.add_bos = true, .parse_special = true});
    (void)tokenizer.decode(ids);
  });
  return 0;
}
