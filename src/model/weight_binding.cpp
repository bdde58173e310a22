// bind_weights: turns a checkpoint's tensor table into the ModelWeights views the forward pass
// reads, without copying a byte. Every tensor the config and layer plan require is looked up, its
// dtype and shape checked, and every tensor left over is reported; all problems are gathered into
// one Error so a wrong or mixed-up checkpoint is diagnosed in one run rather than one tensor at a
// time.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/weights.h"
#include "util/error.h"

namespace llama4 {
namespace {

constexpr std::size_t kMaxListedProblems = 50;  // the rest are counted, not listed
constexpr std::int64_t kPackedWordBits = 32;    // mlx packs quantized fields into uint32 words

bool is_float_dtype(DType t) {
  return t == DType::F32 || t == DType::BF16 || t == DType::F16;
}

const void* offset_elements(const void* base, DType dtype, std::int64_t elements) {
  return static_cast<const std::byte*>(base) +
         static_cast<std::size_t>(elements) * dtype_size(dtype);
}

std::string layer_prefix(std::size_t layer) {
  return "model.layers." + std::to_string(layer) + ".";
}

// Looks tensors up, checks them, remembers which were used and collects every problem found.
class WeightBinder {
 public:
  WeightBinder(const Checkpoint& checkpoint, const ModelConfig& config)
      : checkpoint_(checkpoint), config_(config) {}

  bool has(const std::string& name) const { return checkpoint_.find(name) != nullptr; }

  // The tensor, marked as used; a missing one is recorded as a problem (with the shape wanted).
  const TensorInfo* take(const std::string& name, const std::vector<std::int64_t>& expected) {
    const TensorInfo* info = checkpoint_.find(name);
    if (info == nullptr) {
      problem("missing tensor '" + name + "' (expected " + shape_string(expected) + ")");
      return nullptr;
    }
    consumed_.insert(name);
    // Kernels read elements in place through typed pointers. A header that is not padded (or a
    // tensor after one of odd size) leaves data misaligned, which is undefined behaviour there.
    const std::size_t alignment = dtype_size(info->dtype);
    if (info->nbytes > 0 && reinterpret_cast<std::uintptr_t>(info->data) % alignment != 0)
      problem("tensor '" + name + "': data in " + info->file + " is not aligned to its " +
              std::to_string(alignment) + "-byte dtype " + std::string(dtype_name(info->dtype)) +
              " (the header is not padded; rewrite the file with a standard safetensors writer)");
    return info;
  }

  // Marks a tensor as used without checking it (a stored lm_head that tied embeddings replace).
  void consume_if_present(const std::string& name) {
    if (has(name)) consumed_.insert(name);
  }

  Vector vector(const std::string& name, std::int64_t size) {
    const TensorInfo* info = take(name, {size});
    if (info == nullptr || !check_float(*info) || !check_shape(*info, {size})) return {};
    return Vector{info->data, info->dtype, size};
  }

  // `base` + ".weight" (plus ".scales"/".biases" when mlx-quantized): [out, in], or
  // [experts, out, in] when `experts` is given, returning one out-major Matrix per leading index.
  std::vector<Matrix> linear(const std::string& base, std::optional<std::int64_t> experts,
                             std::int64_t out, std::int64_t in) {
    const std::size_t count = static_cast<std::size_t>(experts.value_or(1));
    std::vector<Matrix> matrices(count);
    std::vector<std::int64_t> lead;
    if (experts) lead.push_back(*experts);
    const TensorInfo* weight = take(base + ".weight", with_lead(lead, {out, in}));
    if (weight == nullptr) return matrices;
    if (weight->dtype == DType::U32) return quantized_linear(base, *weight, lead, out, in);
    if (!check_float(*weight) || !check_shape(*weight, with_lead(lead, {out, in}))) return matrices;
    for (std::size_t e = 0; e < count; ++e) {
      Matrix& m = matrices[e];
      m.data =
          offset_elements(weight->data, weight->dtype, static_cast<std::int64_t>(e) * out * in);
      m.dtype = weight->dtype;
      m.layout = Matrix::Layout::kOutMajor;
      m.out_features = out;
      m.in_features = in;
      m.row_stride = in;
    }
    return matrices;
  }

  Matrix linear(const std::string& base, std::int64_t out, std::int64_t in) {
    return linear(base, std::nullopt, out, in).front();
  }

  // HF fused experts, used in place: gate_up_proj [E, H, 2I] (gate = columns [0, I), up = [I, 2I))
  // and down_proj [E, I, H], both stored in-major (x @ W).
  std::vector<SwiGluWeights> fused_experts(const std::string& prefix, std::int64_t experts,
                                           std::int64_t hidden, std::int64_t width) {
    std::vector<SwiGluWeights> result(static_cast<std::size_t>(experts));
    const std::vector<std::int64_t> gate_up_shape{experts, hidden, 2 * width};
    const std::vector<std::int64_t> down_shape{experts, width, hidden};
    const TensorInfo* gate_up = take(prefix + "gate_up_proj", gate_up_shape);
    const TensorInfo* down = take(prefix + "down_proj", down_shape);
    const bool gate_up_ok =
        gate_up != nullptr && check_float(*gate_up) && check_shape(*gate_up, gate_up_shape);
    const bool down_ok = down != nullptr && check_float(*down) && check_shape(*down, down_shape);
    for (std::int64_t e = 0; e < experts; ++e) {
      SwiGluWeights& expert = result[static_cast<std::size_t>(e)];
      if (gate_up_ok) {
        const void* block = offset_elements(gate_up->data, gate_up->dtype, e * hidden * 2 * width);
        expert.gate = in_major(block, gate_up->dtype, width, hidden, 2 * width);
        expert.up = in_major(offset_elements(block, gate_up->dtype, width), gate_up->dtype, width,
                             hidden, 2 * width);
      }
      if (down_ok) {
        const void* block = offset_elements(down->data, down->dtype, e * width * hidden);
        expert.down = in_major(block, down->dtype, hidden, width, hidden);
      }
    }
    return result;
  }

  void problem(std::string text) { problems_.push_back(std::move(text)); }

  // Every checkpoint tensor nothing asked for: a sign of a config/checkpoint mismatch.
  void report_unused() {
    for (const auto& [name, info] : checkpoint_.tensors())
      if (!consumed_.contains(name))
        problem("unexpected tensor '" + name + "' (" + std::string(dtype_name(info.dtype)) + " " +
                shape_string(info.shape) + ")");
  }

  void throw_if_problems() const {
    if (problems_.empty()) return;
    const std::string source = checkpoint_.files().empty()
                                   ? std::string("checkpoint")
                                   : checkpoint_.files().front().parent_path().string();
    std::string message = source + ": " + std::to_string(problems_.size()) +
                          " problem(s) binding checkpoint tensors to the model config:";
    const std::size_t listed = std::min(problems_.size(), kMaxListedProblems);
    for (std::size_t i = 0; i < listed; ++i) message += "\n  " + problems_[i];
    if (problems_.size() > listed)
      message += "\n  and " + std::to_string(problems_.size() - listed) + " more";
    throw Error(message);
  }

 private:
  static std::vector<std::int64_t> with_lead(const std::vector<std::int64_t>& lead,
                                             std::vector<std::int64_t> tail) {
    tail.insert(tail.begin(), lead.begin(), lead.end());
    return tail;
  }

  static Matrix in_major(const void* data, DType dtype, std::int64_t out, std::int64_t in,
                         std::int64_t row_stride) {
    Matrix m;
    m.data = data;
    m.dtype = dtype;
    m.layout = Matrix::Layout::kInMajor;
    m.out_features = out;
    m.in_features = in;
    m.row_stride = row_stride;
    return m;
  }

  bool check_float(const TensorInfo& info) {
    if (is_float_dtype(info.dtype)) return true;
    problem("tensor '" + info.name + "': dtype " + std::string(dtype_name(info.dtype)) +
            " not supported (expected F32, BF16 or F16)");
    return false;
  }

  bool check_shape(const TensorInfo& info, const std::vector<std::int64_t>& expected) {
    if (info.shape == expected) return true;
    problem("tensor '" + info.name + "': expected " + shape_string(expected) + " found " +
            shape_string(info.shape));
    return false;
  }

  // mlx affine quantization: weight U32 [.., out, in·bits/32], scales and biases [.., out, in/G].
  std::vector<Matrix> quantized_linear(const std::string& base, const TensorInfo& weight,
                                       const std::vector<std::int64_t>& lead, std::int64_t out,
                                       std::int64_t in) {
    const std::size_t count = lead.empty() ? 1 : static_cast<std::size_t>(lead.front());
    std::vector<Matrix> matrices(count);
    if (!config_.quantization) {
      problem("tensor '" + weight.name +
              "': U32 (quantized) weight but the config has no 'quantization'");
      return matrices;
    }
    const int bits = config_.quantization->bits;
    const int group_size = config_.quantization->group_size;
    if (bits <= 0 || group_size <= 0 || in % group_size != 0 ||
        (in * bits) % kPackedWordBits != 0) {
      problem("tensor '" + weight.name + "': " + std::to_string(in) +
              " inputs cannot be quantized with bits " + std::to_string(bits) + " and group_size " +
              std::to_string(group_size));
      return matrices;
    }
    const std::int64_t words_per_row = in * bits / kPackedWordBits;
    const std::int64_t groups_per_row = in / group_size;
    const auto scale_shape = with_lead(lead, {out, groups_per_row});
    const TensorInfo* scales = take(base + ".scales", scale_shape);
    const TensorInfo* biases = take(base + ".biases", scale_shape);
    bool ok = check_shape(weight, with_lead(lead, {out, words_per_row}));
    for (const TensorInfo* part : {scales, biases})
      ok = part != nullptr && check_float(*part) && check_shape(*part, scale_shape) && ok;
    if (!ok) return matrices;
    if (scales->dtype != biases->dtype) {
      problem("tensor '" + biases->name + "': dtype " + std::string(dtype_name(biases->dtype)) +
              " differs from '" + scales->name + "' (" + std::string(dtype_name(scales->dtype)) +
              ")");
      return matrices;
    }
    for (std::size_t e = 0; e < count; ++e) {
      const std::int64_t index = static_cast<std::int64_t>(e);
      Matrix& m = matrices[e];
      m.data = offset_elements(weight.data, DType::U32, index * out * words_per_row);
      m.dtype = DType::U32;
      m.layout = Matrix::Layout::kOutMajor;
      m.out_features = out;
      m.in_features = in;
      m.row_stride = in;
      m.quant.packed = static_cast<const std::uint32_t*>(m.data);
      m.quant.scales = offset_elements(scales->data, scales->dtype, index * out * groups_per_row);
      m.quant.biases = offset_elements(biases->data, biases->dtype, index * out * groups_per_row);
      m.quant.scale_dtype = scales->dtype;
      m.quant.bits = bits;
      m.quant.group_size = group_size;
    }
    return matrices;
  }

  const Checkpoint& checkpoint_;
  const ModelConfig& config_;
  std::set<std::string> consumed_;
  std::vector<std::string> problems_;
};

SwiGluWeights bind_swiglu(WeightBinder& binder, const std::string& prefix, std::int64_t hidden,
                          std::int64_t width) {
  SwiGluWeights weights;
  weights.gate = binder.linear(prefix + "gate_proj", width, hidden);
  weights.up = binder.linear(prefix + "up_proj", width, hidden);
  weights.down = binder.linear(prefix + "down_proj", hidden, width);
  return weights;
}

// The routed experts of one MoE layer, in whichever of the three published layouts is present.
std::vector<SwiGluWeights> bind_experts(WeightBinder& binder, const std::string& layer,
                                        const ModelConfig& config) {
  const std::string prefix = layer + "feed_forward.experts.";
  const std::int64_t experts = config.num_local_experts;
  const std::int64_t hidden = config.hidden_size;
  const std::int64_t width = config.intermediate_size;

  if (binder.has(prefix + "gate_up_proj") || binder.has(prefix + "down_proj"))
    return binder.fused_experts(prefix, experts, hidden, width);

  if (binder.has(prefix + "gate_proj.weight") || binder.has(prefix + "up_proj.weight") ||
      binder.has(prefix + "down_proj.weight")) {  // mlx: [E, out, in] stacks
    const auto gate = binder.linear(prefix + "gate_proj", experts, width, hidden);
    const auto up = binder.linear(prefix + "up_proj", experts, width, hidden);
    const auto down = binder.linear(prefix + "down_proj", experts, hidden, width);
    std::vector<SwiGluWeights> result(static_cast<std::size_t>(experts));
    for (std::size_t e = 0; e < result.size(); ++e) result[e] = {gate[e], up[e], down[e]};
    return result;
  }

  if (binder.has(prefix + "0.gate_proj.weight")) {  // one [out, in] linear per expert
    std::vector<SwiGluWeights> result;
    for (std::int64_t e = 0; e < experts; ++e)
      result.push_back(bind_swiglu(binder, prefix + std::to_string(e) + ".", hidden, width));
    return result;
  }

  binder.problem("missing experts of " + layer.substr(0, layer.size() - 1) + ": expected '" +
                 prefix + "gate_up_proj' and '" + prefix + "down_proj', or '" + prefix +
                 "{gate,up,down}_proj.weight', or '" + prefix + "{e}.{gate,up,down}_proj.weight'");
  return std::vector<SwiGluWeights>(static_cast<std::size_t>(experts));
}

LayerWeights bind_layer(WeightBinder& binder, std::size_t index, const LayerSpec& spec,
                        const ModelConfig& config) {
  const std::string layer = layer_prefix(index);
  const std::int64_t hidden = config.hidden_size;
  const std::int64_t q_width = config.num_attention_heads * config.head_dim;
  const std::int64_t kv_width = config.num_key_value_heads * config.head_dim;

  LayerWeights weights;
  weights.input_norm = binder.vector(layer + "input_layernorm.weight", hidden);
  weights.post_attention_norm = binder.vector(layer + "post_attention_layernorm.weight", hidden);
  weights.q = binder.linear(layer + "self_attn.q_proj", q_width, hidden);
  weights.k = binder.linear(layer + "self_attn.k_proj", kv_width, hidden);
  weights.v = binder.linear(layer + "self_attn.v_proj", kv_width, hidden);
  weights.o = binder.linear(layer + "self_attn.o_proj", hidden, q_width);

  const std::string ffn = layer + "feed_forward.";
  if (!spec.moe) {
    weights.dense = bind_swiglu(binder, ffn, hidden, config.intermediate_size_mlp);
    return weights;
  }
  MoeWeights moe;
  moe.router = binder.linear(ffn + "router", config.num_local_experts, hidden);
  moe.shared_expert = bind_swiglu(binder, ffn + "shared_expert.", hidden, config.intermediate_size);
  moe.experts = bind_experts(binder, layer, config);
  weights.moe = std::move(moe);
  return weights;
}

}  // namespace

ModelWeights bind_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                          const LayerPlan& plan) {
  if (plan.size() != static_cast<std::size_t>(config.num_hidden_layers))
    throw Error("layer plan has " + std::to_string(plan.size()) +
                " layers but num_hidden_layers is " + std::to_string(config.num_hidden_layers));

  WeightBinder binder(checkpoint, config);
  ModelWeights weights;
  weights.embed_tokens = binder.linear("model.embed_tokens", config.vocab_size, config.hidden_size);
  weights.final_norm = binder.vector("model.norm.weight", config.hidden_size);
  if (config.tie_word_embeddings) {
    // Tied: the output projection is the embedding matrix, as in transformers, even if a copy
    // of it was saved as lm_head.
    for (const char* name : {"lm_head.weight", "lm_head.scales", "lm_head.biases"})
      binder.consume_if_present(name);
    weights.lm_head = weights.embed_tokens;
  } else {
    weights.lm_head = binder.linear("lm_head", config.vocab_size, config.hidden_size);
  }
  for (std::size_t i = 0; i < plan.size(); ++i)
    weights.layers.push_back(bind_layer(binder, i, plan[i], config));

  binder.report_unused();
  binder.throw_if_problems();
  return weights;
}

}  // namespace llama4
