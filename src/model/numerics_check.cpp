// Numerics guard; see numerics_check.h.
#include "model/numerics_check.h"

#include <cmath>
#include <string>

#include "util/error.h"

namespace llama4 {

void check_activations_finite(std::span<const float> values, std::int64_t width, std::int64_t layer,
                              std::string_view tensor) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float value = values[i];
    if (std::isfinite(value)) continue;
    const auto row = width > 0 ? static_cast<std::int64_t>(i) / width : 0;
    const auto column = width > 0 ? static_cast<std::int64_t>(i) % width : 0;
    std::string where = layer == kNoLayer ? "" : "layer " + std::to_string(layer) + " ";
    where += tensor;
    const char* kind = std::isnan(value) ? "NaN" : (value > 0 ? "+Inf" : "-Inf");
    throw Error("numerics check: " + where + " holds " + kind + " at row " + std::to_string(row) +
                ", column " + std::to_string(column) +
                " (the first non-finite activation; a weight feeding it may be NaN/Inf in the "
                "checkpoint)");
  }
}

}  // namespace llama4
