// Fuzz target: `generation_config.json` reading (GenerationConfig::load) on arbitrary bytes.
#include "fuzz_support.h"
#include "generate/generation_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = llama4::fuzz::scratch_dir() / "generation-config";
  static const bool created = std::filesystem::create_directories(dir);
  (void)created;
  llama4::fuzz::write_file(dir / "generation_config.json", llama4::fuzz::as_text(data, size));
  llama4::fuzz::expect_only_llama4_errors([&] { (void)llama4::GenerationConfig::load(dir); });
  return 0;
}
