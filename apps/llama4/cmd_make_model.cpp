// `llama4 make-model -o DIR [--preset tiny|scout|maverick] [--layers N] [--vocab V] [--dtype
// bf16]`: writes a random-weight checkpoint with real Llama 4 layer sizes, for demos and
// benchmarks.
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "model/synthetic_model.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

struct MakeModelOptions {
  std::string out_dir;
  std::string preset = "tiny";
  std::int64_t layers = 4;
  std::int64_t vocab = 32000;
  std::string dtype = "bf16";
  std::uint64_t seed = 0;
};

int run_make_model(const MakeModelOptions& o) {
  SyntheticOptions options;
  options.seed = o.seed;
  if (o.dtype == "bf16")
    options.dtype = DType::BF16;
  else if (o.dtype == "f16")
    options.dtype = DType::F16;
  else if (o.dtype == "f32")
    options.dtype = DType::F32;
  else
    throw Error("--dtype '" + o.dtype + "': expected bf16, f16 or f32");
  const ModelConfig config = synthetic_config(o.preset, o.layers, o.vocab);
  write_synthetic_model(o.out_dir, config, options);
  std::fprintf(stderr, "make-model: %s model with %lld layers, vocab %lld, %s → %s\n",
               o.preset.c_str(), static_cast<long long>(o.layers), static_cast<long long>(o.vocab),
               o.dtype.c_str(), o.out_dir.c_str());
  return 0;
}

const CommandRegistration kMakeModel{
    "make-model", "Write a random-weight Llama 4 checkpoint (demo / benchmark model)", 80,
    [](CLI::App& cmd) {
      auto o = std::make_shared<MakeModelOptions>();
      cmd.add_option("-o,--output", o->out_dir, "Output folder")->required();
      cmd.add_option("--preset", o->preset, "tiny, scout or maverick layer sizes")
          ->capture_default_str();
      cmd.add_option("--layers", o->layers, "Number of decoder layers")
          ->capture_default_str()
          ->check(CLI::Range(1, 1024));
      cmd.add_option("--vocab", o->vocab, "Vocabulary size")
          ->capture_default_str()
          ->check(CLI::Range(2, 1 << 24));
      cmd.add_option("--dtype", o->dtype, "bf16, f16 or f32")->capture_default_str();
      cmd.add_option("--seed", o->seed, "Random seed")->capture_default_str();
      return [o] { return run_make_model(*o); };
    }};

}  // namespace
}  // namespace llama4::cli
