// Fuzz target: config.json parsing (ModelConfig::from_json_text) and the layer plan built from it.
// A config that parses must also give a layer plan or a clean Error, never a crash.
#include <string>

#include "checkpoint/model_config.h"
#include "fuzz_support.h"
#include "model/layer_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(llama4::fuzz::as_text(data, size));
  llama4::fuzz::expect_only_llama4_errors([&] {
    const llama4::ModelConfig config = llama4::ModelConfig::from_json_text(text, "config.json");
    const llama4::LayerPlan plan = llama4::LayerPlan::from_config(config);
    if (plan.size() != static_cast<std::size_t>(config.num_hidden_layers)) std::abort();
    (void)plan.to_table();
  });
  return 0;
}
