// The --activations flag every command that runs the model shares: the precision of activations
// entering 4/8-bit matrix products (f32, or int8: faster on CPUs with AVX-512 VNNI, approximate).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "kernels/int8_activations.h"
#include "model/model.h"

namespace llama4::cli {

inline void add_activations_flag(CLI::App& cmd, QuantizedActivations& precision) {
  cmd.add_option_function<std::string>(
         "--activations",
         [&precision](const std::string& name) {
           const auto parsed = quantized_activations_from_name(name);
           if (!parsed)
             throw CLI::ValidationError("--activations", "'" + name + "': expected f32 or int8");
           precision = *parsed;
         },
         "Activations entering 4/8-bit weight products: f32 (exact) or int8 (faster, rounded "
         "per 32 inputs)")
      ->default_str(std::string(quantized_activations_name(precision)));
}

// Applies the flag to a loaded model; says so when int8 has nothing to act on, or no fast kernel.
inline void apply_activations_flag(Model& model, QuantizedActivations precision, bool quiet) {
  model.set_quantized_activations(precision);
  if (precision != QuantizedActivations::kInt8 || quiet) return;
  if (!model.has_quantized_weights())
    std::fprintf(stderr,
                 "note: --activations int8 has no effect: the model has no 4/8-bit weights\n");
  else if (!int8_activations_use_vnni())
    std::fprintf(stderr,
                 "note: this CPU has no AVX-512 VNNI: --activations int8 runs a portable kernel, "
                 "slower than f32 activations\n");
}

}  // namespace llama4::cli
