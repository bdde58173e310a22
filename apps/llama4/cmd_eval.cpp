// `llama4 eval -m DIR --ids 1,2,3 --logits OUT.npy [--decode-from N] [-t N]`: runs the model on
// given token ids and writes the float32 logits of every position as a [T, vocab] .npy file — the
// interface the golden tests use to compare the engine with the numpy reference. With
// --decode-from N the first N ids are prefilled as one batch and the rest are fed one at a time
// through the KV caches, which must give the same logits as one full forward. With
// --check-numerics the first NaN/Inf activation stops the run with the layer and tensor named, and
// no logits file is written.
#include <omp.h>

#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "model/model.h"
#include "precision_flags.h"
#include "token_list.h"
#include "util/error.h"
#include "util/npy.h"

namespace llama4::cli {
namespace {

struct EvalOptions {
  std::string model_dir;
  std::string ids;
  std::string logits_path;
  std::int64_t decode_from = -1;
  int threads = 0;
  std::int64_t context_size = 0;
  KvType kv_type = KvType::kF32;
  QuantizedActivations activations = QuantizedActivations::kAuto;
  bool check_numerics = kCheckNumericsByDefault;
};

int run_eval(const EvalOptions& options) {
  if (options.threads > 0) omp_set_num_threads(options.threads);
  const std::vector<std::int32_t> ids = parse_token_list(options.ids);
  const auto n = static_cast<std::int64_t>(ids.size());
  if (options.decode_from > n)
    throw Error("--decode-from " + std::to_string(options.decode_from) + " is past the " +
                std::to_string(n) + " ids given");
  const auto model = Model::load(options.model_dir);
  model->set_check_numerics(options.check_numerics);
  apply_activations_flag(*model, options.activations, false);
  const std::int64_t vocab = model->config().vocab_size;
  InferenceState state(*model, options.context_size > 0 ? options.context_size : n,
                       options.kv_type);

  std::vector<float> all_logits, step_logits;
  all_logits.reserve(static_cast<std::size_t>(n * vocab));
  const std::int64_t prefill = options.decode_from >= 0 ? options.decode_from : n;
  const std::span<const std::int32_t> tokens(ids);
  if (prefill > 0) {
    model->forward(tokens.first(static_cast<std::size_t>(prefill)), state, LogitsFor::kAllPositions,
                   step_logits);
    all_logits.insert(all_logits.end(), step_logits.begin(), step_logits.end());
  }
  for (std::int64_t t = prefill; t < n; ++t) {
    model->forward(tokens.subspan(static_cast<std::size_t>(t), 1), state, LogitsFor::kAllPositions,
                   step_logits);
    all_logits.insert(all_logits.end(), step_logits.begin(), step_logits.end());
  }
  write_npy_f32(options.logits_path, all_logits, {n, vocab});
  std::fprintf(stderr, "eval: %lld positions × %lld logits → %s\n", static_cast<long long>(n),
               static_cast<long long>(vocab), options.logits_path.c_str());
  return 0;
}

const CommandRegistration kEval{
    "eval", "Write the logits of given token ids to a .npy file", 50, [](CLI::App& cmd) {
      auto options = std::make_shared<EvalOptions>();
      cmd.add_option("-m,--model", options->model_dir, "Model folder")->required();
      cmd.add_option("--ids", options->ids, "Token ids, comma-separated")->required();
      cmd.add_option("--logits", options->logits_path, "Output .npy file [T, vocab] float32")
          ->required();
      cmd.add_option("--decode-from", options->decode_from,
                     "Prefill the first N ids, then feed the rest one at a time");
      cmd.add_option("-t,--threads", options->threads, "Threads (default: all cores)");
      cmd.add_option("-c,--ctx-size", options->context_size,
                     "Context size (default: number of ids)");
      add_kv_type_flag(cmd, options->kv_type);
      add_activations_flag(cmd, options->activations);
      cmd.add_flag("--check-numerics,!--no-check-numerics", options->check_numerics,
                   "Stop at the first layer and tensor whose activations hold NaN/Inf "
                   "(default: on in Debug builds)");
      return [options] { return run_eval(*options); };
    }};

}  // namespace
}  // namespace llama4::cli
