// `llama4 quantize -m IN -o OUT --bits 4|8|16 [--group-size 32|64|128] [--keep PARTS]`:
// writes an mlx-community style affine-quantized copy of a checkpoint, loadable by this engine and
// by mlx-lm.
//
// What is quantized follows mlx-lm's default predicate for Llama 4 (its llama4.py defines no
// quant_predicate of its own): every module with a quantized form — nn.Linear (attention
// projections, router, shared expert, dense MLP, lm_head), nn.Embedding (embed_tokens) and the
// stacked SwitchGLU experts — whose input dimension is divisible by the group size. RMSNorm weights
// and anything else stay as stored. Each quantized linear X becomes X.weight (U32,
// [.., out, in·bits/32]), X.scales and X.biases ([.., out, in/G], the source float dtype). HF's
// fused experts (gate_up_proj [E, H, 2I], down_proj [E, I, H]) are written in mlx's sanitized
// layout experts.{gate,up,down}_proj.weight ([E, out, in]), quantized per expert. Scales and
// biases are mlx's, but the levels are chosen against their stored (bf16) values rather than
// their f32 ones (kernels/mlx_quant.h): same format, 8-bit weights 26% closer to the original.
// config.json gains "quantization" (and "quantization_config", as mlx-lm writes both); the other
// small files of the folder (tokenizer, chat template, generation config) are copied.
//
// --keep embeddings,attention leaves those parts as stored (mlx-lm loads a layer unquantized when
// it has no scales; --keep-embeddings is --keep embeddings). On the test fixture whose tokens use
// every expert, 8-bit (g64) logits differ from the original's by 1.24% of their norm, 1.04% with
// the embedding and output head kept, and 0.44% with the attention projections kept too: there
// the attention path carries most of the error. The price is those matrices in 16 bits:
// for Scout, the attention projections are 3% of the weights but a fifth of what a decoded token
// reads.
//
// --bits 16 quantizes nothing: every weight keeps its stored type and only HF's fused experts are
// rewritten in mlx's [E, out, in] layout (as mlx-lm converts a model without -q). Out-major
// experts decode faster than the fused in-major ones, and with --activations bf16 their prompts run
// on AMX where the CPU has it (docs/PERFORMANCE.md, "Experts out-major").
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/safetensors.h"
#include "checkpoint/safetensors_writer.h"
#include "command.h"
#include "kernels/linear.h"
#include "kernels/mlx_quant.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kUnquantized = 16;  // --bits 16: weights as stored, experts out-major
constexpr int kSupportedBits[] = {4, 8, kUnquantized};
constexpr int kSupportedGroupSizes[] = {32, 64, 128};
constexpr std::int64_t kWordBits = 32;
constexpr const char* kOutputFile = "model.safetensors";

struct QuantizeOptions {
  std::string in_dir, out_dir;
  int bits = 4;
  int group_size = 64;
  std::vector<std::string> keep;  // parts left as stored: kKeepEmbeddings, kKeepAttention
  bool keep_embeddings = false;   // the older spelling of --keep embeddings
};

// What --keep can leave as stored, and how to tell their weights by name.
constexpr const char* kKeepEmbeddings = "embeddings";  // embed_tokens and lm_head
constexpr const char* kKeepAttention = "attention";    // the q, k, v and o projections
bool kept_part_holds(const std::string& part, const std::string& name) {
  if (part == kKeepEmbeddings)
    return name.ends_with("embed_tokens.weight") || name.ends_with("lm_head.weight");
  if (part == kKeepAttention)
    return name.find(".self_attn.") != std::string::npos && name.ends_with("_proj.weight");
  return false;
}

// A matrix to quantize, possibly stacked (lead = experts) and possibly stored transposed:
// element (e, o, i) is at data[e·lead_stride + o·out_stride + i·in_stride + offset].
struct SourceMatrix {
  const TensorInfo* tensor = nullptr;
  std::int64_t lead = 0;  // 0: a plain 2-D matrix
  std::int64_t out = 0, in = 0;
  std::int64_t lead_stride = 0, out_stride = 0, in_stride = 0, offset = 0;
  // False for fused experts whose input dimension the group size does not divide: they are still
  // rewritten in the stacked [E, out, in] layout (as mlx-lm's sanitize does), but unquantized.
  bool quantize = true;
};

struct OutputTensor {
  std::string name;                    // without .weight/.scales/.biases when quantized
  const TensorInfo* copy = nullptr;    // copied as stored
  std::optional<SourceMatrix> matrix;  // quantized
};

std::vector<std::int64_t> with_lead(std::int64_t lead, std::vector<std::int64_t> shape) {
  if (lead > 0) shape.insert(shape.begin(), lead);
  return shape;
}

bool is_float(DType t) {
  return t == DType::F32 || t == DType::BF16 || t == DType::F16;
}

// Decides, tensor by tensor, what the output holds (in the source's name order). With `bits`
// kUnquantized nothing is quantized (the fused experts are still rewritten).
std::vector<OutputTensor> plan_outputs(const Checkpoint& checkpoint, const QuantizeOptions& o) {
  const int bits = o.bits, group_size = o.group_size;
  std::vector<OutputTensor> outputs;
  const auto quantizable = [&](std::int64_t in) {
    return bits != kUnquantized && in % group_size == 0;
  };
  for (const auto& [name, info] : checkpoint.tensors()) {
    const std::string& stored = info.stored_name;
    // A named reference: clang 14 cannot capture a structured binding in a lambda.
    const std::string& canonical = name;
    const auto ends_with = [&](const std::string& suffix) { return canonical.ends_with(suffix); };
    if (info.dtype == DType::U32 || name.ends_with(".scales") || name.ends_with(".biases"))
      throw Error("quantize: tensor '" + name + "' in " + info.file + " is already quantized");
    if (!is_float(info.dtype) || info.shape.size() < 2 || info.shape.size() > 3) {
      outputs.push_back({stored, &info, std::nullopt});
      continue;
    }
    const std::int64_t rows = info.shape[info.shape.size() - 2], cols = info.shape.back();
    if (ends_with("experts.gate_up_proj") && info.shape.size() == 3) {  // HF fused [E, H, 2I]
      const std::string base = stored.substr(0, stored.size() - std::string("gate_up_proj").size());
      const std::int64_t experts = info.shape[0], hidden = rows, width = cols / 2;
      for (std::int64_t half = 0; half < 2; ++half)
        outputs.push_back({base + (half == 0 ? "gate_proj" : "up_proj"), nullptr,
                           SourceMatrix{&info, experts, width, hidden, hidden * cols, 1, cols,
                                        half * width, quantizable(hidden)}});
      continue;
    }
    if (ends_with("experts.down_proj") && info.shape.size() == 3) {  // HF fused [E, I, H]
      const std::int64_t experts = info.shape[0], width = rows, hidden = cols;
      outputs.push_back({stored, nullptr,
                         SourceMatrix{&info, experts, hidden, width, width * hidden, 1, hidden, 0,
                                      quantizable(width)}});
      continue;
    }
    const bool kept = std::any_of(o.keep.begin(), o.keep.end(), [&](const std::string& part) {
      return kept_part_holds(part, canonical);
    });
    if (!ends_with(".weight") || !quantizable(cols) || kept) {
      outputs.push_back({stored, &info, std::nullopt});
      continue;
    }
    const std::string base = stored.substr(0, stored.size() - std::string(".weight").size());
    const std::int64_t lead = info.shape.size() == 3 ? info.shape[0] : 0;
    outputs.push_back(
        {base, nullptr, SourceMatrix{&info, lead, rows, cols, rows * cols, cols, 1, 0}});
  }
  return outputs;
}

void store_float(float value, DType dtype, std::byte* dst) {
  if (dtype == DType::F32) {
    std::memcpy(dst, &value, sizeof value);
    return;
  }
  const std::uint16_t bits = dtype == DType::BF16 ? f32_to_bf16(value) : f32_to_f16(value);
  std::memcpy(dst, &bits, sizeof bits);
}

// Quantizes matrix `e` of `m`; appends its scales and biases (stored as the source dtype).
std::vector<std::uint32_t> quantize_matrix(const SourceMatrix& m, std::int64_t e, int bits,
                                           int group_size, std::vector<std::byte>& scales,
                                           std::vector<std::byte>& biases) {
  const DType dtype = m.tensor->dtype;
  const std::size_t element = dtype_size(dtype);
  const std::int64_t words = m.in * bits / kWordBits, groups = m.in / group_size;
  std::vector<std::uint32_t> packed(static_cast<std::size_t>(m.out * words));
  const std::size_t scale_offset = scales.size();
  scales.resize(scale_offset + static_cast<std::size_t>(m.out * groups) * element);
  biases.resize(scales.size());
  const std::byte* base =
      m.tensor->data + static_cast<std::size_t>(e * m.lead_stride + m.offset) * element;
#pragma omp parallel
  {
    std::vector<float> row(static_cast<std::size_t>(m.in)), s(static_cast<std::size_t>(groups)),
        b(s.size());
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t o = 0; o < m.out; ++o) {
      if (m.in_stride == 1)
        widen_to_f32(base + static_cast<std::size_t>(o * m.out_stride) * element, dtype, m.in,
                     row.data());
      else
        for (std::int64_t i = 0; i < m.in; ++i)
          row[static_cast<std::size_t>(i)] =
              load_float_element(base, dtype, o * m.out_stride + i * m.in_stride);
      mlx_quantize_row(row.data(), m.in, bits, group_size, dtype, packed.data() + o * words,
                       s.data(), b.data());
      for (std::int64_t g = 0; g < groups; ++g) {
        const std::size_t at = scale_offset + static_cast<std::size_t>(o * groups + g) * element;
        store_float(s[static_cast<std::size_t>(g)], dtype, scales.data() + at);
        store_float(b[static_cast<std::size_t>(g)], dtype, biases.data() + at);
      }
    }
  }
  return packed;
}

// Matrix `e` of `m` in out-major order, in the stored dtype (for experts left unquantized).
std::vector<std::byte> transpose_matrix(const SourceMatrix& m, std::int64_t e) {
  const std::size_t element = dtype_size(m.tensor->dtype);
  std::vector<std::byte> bytes(static_cast<std::size_t>(m.out * m.in) * element);
  const std::byte* base =
      m.tensor->data + static_cast<std::size_t>(e * m.lead_stride + m.offset) * element;
#pragma omp parallel for schedule(static)
  for (std::int64_t o = 0; o < m.out; ++o)
    for (std::int64_t i = 0; i < m.in; ++i)
      std::memcpy(bytes.data() + static_cast<std::size_t>(o * m.in + i) * element,
                  base + static_cast<std::size_t>(o * m.out_stride + i * m.in_stride) * element,
                  element);
  return bytes;
}

void write_config(const fs::path& in_dir, const fs::path& out_dir, int bits, int group_size) {
  if (bits == kUnquantized) {  // the configuration is unchanged
    fs::copy_file(in_dir / "config.json", out_dir / "config.json",
                  fs::copy_options::overwrite_existing);
    return;
  }
  std::ifstream in(in_dir / "config.json");
  if (!in) throw Error("quantize: cannot read " + (in_dir / "config.json").string());
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error("quantize: " + (in_dir / "config.json").string() + ": " + e.what());
  }
  const nlohmann::json quantization = {{"group_size", group_size}, {"bits", bits}};
  config["quantization"] = quantization;
  config["quantization_config"] = quantization;
  std::ofstream out(out_dir / "config.json");
  out << config.dump(2) << "\n";
  if (!out) throw Error("quantize: cannot write " + (out_dir / "config.json").string());
}

// Copies the folder's other files (tokenizer, templates, generation config), not its weights.
void copy_side_files(const fs::path& in_dir, const fs::path& out_dir) {
  for (const auto& entry : fs::directory_iterator(in_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "config.json" || name.ends_with(".safetensors") ||
        name.ends_with(".safetensors.index.json") || name.ends_with(".partial"))
      continue;
    fs::copy_file(entry.path(), out_dir / name, fs::copy_options::overwrite_existing);
  }
}

int run_quantize(const QuantizeOptions& o) {
  if (std::find(std::begin(kSupportedBits), std::end(kSupportedBits), o.bits) ==
      std::end(kSupportedBits))
    throw Error("quantize: --bits " + std::to_string(o.bits) + ": expected 4, 8 or 16");
  if (std::find(std::begin(kSupportedGroupSizes), std::end(kSupportedGroupSizes), o.group_size) ==
      std::end(kSupportedGroupSizes))
    throw Error("quantize: --group-size " + std::to_string(o.group_size) +
                ": expected 32, 64 or 128");
  const fs::path in_dir(o.in_dir), out_dir(o.out_dir);
  if (fs::exists(out_dir) && fs::equivalent(in_dir, out_dir))
    throw Error("quantize: the output folder must differ from the input folder");
  const Checkpoint checkpoint = Checkpoint::open(in_dir);
  const std::vector<OutputTensor> outputs = plan_outputs(checkpoint, o);
  fs::create_directories(out_dir);

  SafetensorsWriter writer(out_dir / kOutputFile);
  writer.set_metadata("format", "mlx");
  std::size_t quantized = 0;
  for (const OutputTensor& t : outputs) {
    if (t.copy != nullptr) {
      writer.declare(t.name, t.copy->dtype, t.copy->shape);
      continue;
    }
    const SourceMatrix& m = *t.matrix;
    if (!m.quantize) {
      writer.declare(t.name + ".weight", m.tensor->dtype, with_lead(m.lead, {m.out, m.in}));
      continue;
    }
    ++quantized;
    writer.declare(t.name + ".weight", DType::U32,
                   with_lead(m.lead, {m.out, m.in * o.bits / kWordBits}));
    writer.declare(t.name + ".scales", m.tensor->dtype,
                   with_lead(m.lead, {m.out, m.in / o.group_size}));
    writer.declare(t.name + ".biases", m.tensor->dtype,
                   with_lead(m.lead, {m.out, m.in / o.group_size}));
  }
  for (const OutputTensor& t : outputs) {
    if (t.copy != nullptr) {
      writer.write(std::span(t.copy->data, t.copy->nbytes));
      continue;
    }
    const SourceMatrix& m = *t.matrix;
    if (!m.quantize) {
      for (std::int64_t e = 0; e < m.lead; ++e) writer.write(transpose_matrix(m, e));
      continue;
    }
    std::vector<std::byte> scales, biases;
    for (std::int64_t e = 0; e < std::max<std::int64_t>(m.lead, 1); ++e) {
      const std::vector<std::uint32_t> packed =
          quantize_matrix(m, e, o.bits, o.group_size, scales, biases);
      writer.write(std::as_bytes(std::span(packed)));
    }
    writer.write(scales);
    writer.write(biases);
  }
  writer.finish();
  write_config(in_dir, out_dir, o.bits, o.group_size);
  copy_side_files(in_dir, out_dir);
  if (o.bits == kUnquantized)
    std::fprintf(stderr, "quantize: weights kept as stored, experts in mlx's layout → %s\n",
                 out_dir.c_str());
  else
    std::fprintf(
        stderr, "quantize: %zu matrices → %d-bit, group size %d; %zu tensors kept as stored → %s\n",
        quantized, o.bits, o.group_size, outputs.size() - quantized, out_dir.c_str());
  return 0;
}

const CommandRegistration kQuantize{
    "quantize",
    "Write an mlx-style 4/8-bit affine-quantized copy of a model (--bits 16: unquantized, "
    "experts out-major)",
    85, [](CLI::App& cmd) {
      auto o = std::make_shared<QuantizeOptions>();
      cmd.add_option("-m,--model", o->in_dir, "Input model folder")->required();
      cmd.add_option("-o,--output", o->out_dir, "Output folder")->required();
      cmd.add_option("--bits", o->bits,
                     "Bits per weight: 4 or 8; 16 keeps the weights as stored and only rewrites "
                     "HF's fused experts out-major (mlx's layout), which runs faster")
          ->capture_default_str();
      cmd.add_option("--group-size", o->group_size, "Weights per scale/bias: 32, 64 or 128")
          ->capture_default_str();
      cmd.add_option("--keep", o->keep,
                     "Parts left unquantized, comma-separated: embeddings (embed_tokens and "
                     "lm_head), attention (the q/k/v/o projections); more accurate, larger")
          ->delimiter(',')
          ->check(CLI::IsMember({kKeepEmbeddings, kKeepAttention}));
      cmd.add_flag("--keep-embeddings", o->keep_embeddings, "The same as --keep embeddings");
      return [o] {
        if (o->keep_embeddings) o->keep.emplace_back(kKeepEmbeddings);
        return run_quantize(*o);
      };
    }};

}  // namespace
}  // namespace llama4::cli
