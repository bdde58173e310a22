// The precision flags every command that runs the model shares: --kv-type (element type of the KV
// cache) and --activations (precision of activations entering 4/8-bit matrix products: f32, or
// int8 — faster on CPUs with AVX-512 VNNI, approximate).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

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
                  quantized_activations_name, "f32 or int8",
                  "Activations entering 4/8-bit weight products: f32 (exact) or int8 (faster, "
                  "rounded per 32 inputs)");
}

// Applies --activations to a loaded model; says so when int8 has nothing to act on, or no fast
// kernel.
inline void apply_activations_flag(Model& model, QuantizedActivations precision, bool quiet) {
  model.set_quantized_activations(precision);
  if (precision != QuantizedActivations::kInt8 || quiet) return;
  if (!model.has_quantized_weights())
    std::fprintf(stderr,
                 "note: --activations int8 has no effect: the model has no 4/8-bit weights\n");
  else if (int8_kernel_in_use() == Int8Kernel::kPortable)
    std::fprintf(stderr,
                 "note: this CPU has neither AVX-512 VNNI nor AVX2: --activations int8 runs a "
                 "portable kernel, slower than f32 activations\n");
}

}  // namespace llama4::cli
