// The precision flags every command that runs the model shares: --kv-type (element type of the KV
// cache) and --activations (precision of activations entering weight products: f32; int8 or int16
// for 4/8-bit weights — faster on CPUs with AVX-512 VNNI (int8 also with AVX2); bf16 for bf16
// weights — faster prompts on CPUs with AVX-512 BF16; the rounded ones approximate; auto, the
// default: int16 where it is the faster path for 4/8-bit weights, else f32).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace llama4::cli {

// A flag whose value is one of a few names: `parse` maps a name to a value (nullopt: refused with
// "expected <choices>"), `name_of` a value back to its name for the help's default.
template <typename T, typename Parse, typename NameOf>
void add_choice_flag(CLI::App& cmd, const std::string& flag, T& value, Parse parse, NameOf name_of,
                     const std::string& choices, const std::string& help) {
  cmd.add_option_function<std::string>(
         flag,
         [&value, parse, flag, choices](const std::string& name) {
           const std::optional<T> parsed = parse(name);
           if (!parsed) throw CLI::ValidationError(flag, "'" + name + "': expected " + choices);
           value = *parsed;
         },
         help)
      ->default_str(std::string(name_of(value)));
}

inline void add_kv_type_flag(CLI::App& cmd, KvType& type) {
  add_choice_flag(cmd, "--kv-type", type, kv_type_from_name, kv_type_name, "f32 or bf16",
                  "KV cache element type: f32 or bf16 (half the memory)");
}

inline void add_activations_flag(CLI::App& cmd, QuantizedActivations& precision) {
  add_choice_flag(cmd, "--activations", precision, quantized_activations_from_name,
                  quantized_activations_name, "auto, f32, int8, int16 or bf16",
                  "Activations entering weight products: f32 (exact); int8 or int16 for 4/8-bit "
                  "weights (faster, rounded per 64 or 32 inputs to 8 or 16 bits); bf16 for bf16 "
                  "weights (faster prompts, rounded); auto: int16 for 4/8-bit weights on CPUs "
                  "with AVX-512 VNNI, f32 otherwise");
}

// Applies --activations to a loaded model; says so when a precision asked for by name has nothing
// to act on, or no fast kernel (auto picks only what acts and pays off).
inline void apply_activations_flag(Model& model, QuantizedActivations precision, bool quiet) {
  model.set_quantized_activations(precision);
  if (precision == QuantizedActivations::kF32 || precision == QuantizedActivations::kAuto || quiet)
    return;
  const bool integer = precision != QuantizedActivations::kBf16;
  const std::string name(quantized_activations_name(precision));
  if (!model.rounds_activations())
    std::fprintf(stderr, "note: --activations %s has no effect: the model has no %s weights\n",
                 name.c_str(), integer ? "4/8-bit" : "bf16");
  else if (integer && int8_kernel_in_use() == Int8Kernel::kPortable)
    std::fprintf(stderr,
                 "note: this CPU has neither AVX-512 VNNI nor AVX2: --activations %s runs a "
                 "portable kernel, slower than f32 activations\n",
                 name.c_str());
  else if (!integer && bf16_kernel_in_use() == Bf16Kernel::kPortable)
    std::fprintf(stderr,
                 "note: this CPU has no AVX-512 BF16: --activations bf16 runs a portable kernel, "
                 "slower than f32 activations\n");
}

}  // namespace llama4::cli
