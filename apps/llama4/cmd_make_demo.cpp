// `llama4 make-demo -o DIR`: writes the demo model folder — a tiny random-weight Llama 4 with a
// small byte-level BPE tokenizer and a chat template — that `scripts/run` uses when no model is
// given.
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "generate/demo_model.h"

namespace llama4::cli {
namespace {

struct MakeDemoOptions {
  std::string out_dir;
  DemoModelOptions demo;
};

const CommandRegistration kMakeDemo{
    "make-demo", "Write the demo model (random weights, small tokenizer, chat template)", 81,
    [](CLI::App& cmd) {
      auto o = std::make_shared<MakeDemoOptions>();
      cmd.add_option("-o,--output", o->out_dir, "Output folder")->required();
      cmd.add_option("--layers", o->demo.layers, "Number of decoder layers")
          ->capture_default_str()
          ->check(CLI::Range(1, 64));
      cmd.add_option("--seed", o->demo.seed, "Random seed of the weights")->capture_default_str();
      return [o] {
        write_demo_model(o->out_dir, o->demo);
        std::fprintf(stderr, "make-demo: wrote a %s to %s\n", kDemoModelNotice, o->out_dir.c_str());
        return 0;
      };
    }};

}  // namespace
}  // namespace llama4::cli
