// Names of element types as safetensors spells them, and float → half rounding.
#include "tensor/dtype.h"

#include <array>
#include <cmath>
#include <utility>

namespace llama4 {
namespace {
constexpr std::array<std::pair<DType, std::string_view>, 13> kNames{{
    {DType::F32, "F32"}, {DType::BF16, "BF16"}, {DType::F16, "F16"}, {DType::U32, "U32"},
    {DType::I32, "I32"}, {DType::U8, "U8"},     {DType::I8, "I8"},   {DType::I64, "I64"},
    {DType::F64, "F64"}, {DType::BOOL, "BOOL"}, {DType::U16, "U16"}, {DType::I16, "I16"},
    {DType::U64, "U64"},
}};
}  // namespace

std::string_view dtype_name(DType t) {
  for (const auto& [type, name] : kNames)
    if (type == t) return name;
  return "?";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& [type, n] : kNames)
    if (n == name) return type;
  return std::nullopt;
}

std::uint16_t f32_to_f16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const float magnitude = std::fabs(value);
  if (std::isnan(value)) return static_cast<std::uint16_t>(sign | 0x7e00u);
  if (magnitude >= 65520.0f) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (magnitude < 6.103515625e-05f) {  // subnormal half: a multiple of 2^-24, round to nearest even
    const float scaled = magnitude * 16777216.0f;
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(scaled)));
  }
  std::uint32_t mantissa = bits & 0x7fffffu;
  std::uint32_t exponent = ((bits >> 23) & 0xffu) - 127 + 15;
  std::uint32_t half = (exponent << 10) | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into the exponent
  return static_cast<std::uint16_t>(sign | half);
}

}  // namespace llama4
