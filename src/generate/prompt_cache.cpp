// Prompt cache reading and writing (format in prompt_cache.h).
#include "generate/prompt_cache.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace llama4 {
namespace {

constexpr char kMagic[4] = {'L', '4', 'P', 'C'};
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;
constexpr std::size_t kTensorSampleBytes = 64;  // bytes of each tensor that enter the fingerprint

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t hash = kFnvOffset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) hash = (hash ^ bytes[i]) * kFnvPrime;
  return hash;
}

class Writer {
 public:
  template <typename T>
  void put(const T& value) {
    bytes(&value, sizeof value);
  }
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), p, p + n);
  }
  const std::string& buffer() const { return buffer_; }

 private:
  std::string buffer_;
};

// Bounds-checked reads; any overrun makes ok() false and returns zeros.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  template <typename T>
  T get() {
    T value{};
    bytes(&value, sizeof value);
    return value;
  }
  void bytes(void* out, std::size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return;
    }
    if (n == 0) return;  // `out` may be null (an empty vector's data()): memcpy forbids that
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
  }
  bool has(std::uint64_t n) const { return ok_ && n <= data_.size() - pos_; }
  bool ok() const { return ok_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::uint64_t model_fingerprint(const std::filesystem::path& model_dir, const Model& model) {
  std::ifstream config(model_dir / "config.json", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(config)), {});
  std::uint64_t hash = fnv1a(text.data(), text.size());
  for (const auto& [name, info] : model.checkpoint().tensors()) {
    hash = fnv1a(name.data(), name.size(), hash);
    const auto dtype = static_cast<int>(info.dtype);
    hash = fnv1a(&dtype, sizeof dtype, hash);
    hash = fnv1a(info.shape.data(), info.shape.size() * sizeof(std::int64_t), hash);
    if (info.data) hash = fnv1a(info.data, std::min(info.nbytes, kTensorSampleBytes), hash);
  }
  // Keys and values computed with rounded (int8, int16 or bf16) activations differ from f32 ones: a
  // cache made one way is not restored another way. (f32, the default, leaves the hash as it always
  // was.)
  if (model.rounds_activations()) {
    const std::string tag =
        std::string(quantized_activations_name(model.quantized_activations())) + "-activations";
    hash = fnv1a(tag.data(), tag.size(), hash);
  }
  return hash;
}

void save_prompt_cache(const std::filesystem::path& file, const std::filesystem::path& model_dir,
                       Generator& generator) {
  InferenceState& state = generator.state();
  const auto& tokens = generator.cached_tokens();
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put(kPromptCacheVersion);
  w.put(model_fingerprint(model_dir, generator.model()));
  w.put(static_cast<std::uint64_t>(tokens.size()));
  w.bytes(tokens.data(), tokens.size() * sizeof(std::int32_t));
  w.put(static_cast<std::uint32_t>(state.caches().size()));
  const ModelConfig& config = generator.model().config();
  const std::int64_t row = config.num_key_value_heads * config.head_dim;
  for (const KvCache& cache : state.caches()) {
    w.put(cache.begin());
    w.put(cache.end());
    w.put(row);
    // Stored as f32 whatever the cache's type, so a file serves either --kv-type.
    std::vector<float> keys(static_cast<std::size_t>((cache.end() - cache.begin()) * row));
    std::vector<float> values(keys.size());
    for (std::int64_t p = cache.begin(); p < cache.end(); ++p)
      cache.read_f32(p, keys.data() + (p - cache.begin()) * row,
                     values.data() + (p - cache.begin()) * row);
    w.bytes(keys.data(), keys.size() * sizeof(float));
    w.bytes(values.data(), values.size() * sizeof(float));
  }
  const std::uint64_t checksum = fnv1a(w.buffer().data(), w.buffer().size());
  w.put(checksum);

  const std::filesystem::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(w.buffer().data(), static_cast<std::streamsize>(w.buffer().size()));
    if (!out) throw Error("prompt cache '" + file.string() + "': cannot write");
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) throw Error("prompt cache '" + file.string() + "': cannot write: " + ec.message());
}

std::string load_prompt_cache(const std::filesystem::path& file,
                              const std::filesystem::path& model_dir, Generator& generator) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return "";
  std::ifstream in(file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  const auto reject = [&](const std::string& why) {
    generator.reset();
    return "ignoring '" + file.string() + "' (" + why + "); starting fresh";
  };
  if (data.size() < sizeof kMagic + sizeof(std::uint64_t)) return reject("file too short");
  std::uint64_t stored_checksum;
  std::memcpy(&stored_checksum, data.data() + data.size() - sizeof stored_checksum,
              sizeof stored_checksum);
  const std::string_view body(data.data(), data.size() - sizeof stored_checksum);
  Reader r(body);
  char magic[sizeof kMagic];
  r.bytes(magic, sizeof magic);
  if (!r.ok() || std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    return reject("not a prompt cache file");
  const auto version = r.get<std::uint32_t>();
  if (version != kPromptCacheVersion)
    return reject("format version " + std::to_string(version) + ", expected " +
                  std::to_string(kPromptCacheVersion));
  if (fnv1a(body.data(), body.size()) != stored_checksum)
    return reject("checksum mismatch: the file is damaged");
  if (r.get<std::uint64_t>() != model_fingerprint(model_dir, generator.model()))
    return reject("it was made with a different model");

  const auto n_tokens = r.get<std::uint64_t>();
  // Compared by division: n_tokens * 4 wraps for n_tokens >= 2^62 and would pass has().
  if (n_tokens > body.size() / sizeof(std::int32_t) || !r.has(n_tokens * sizeof(std::int32_t)))
    return reject("truncated token list");
  std::vector<std::int32_t> tokens(n_tokens);
  r.bytes(tokens.data(), n_tokens * sizeof(std::int32_t));
  const ModelConfig& config = generator.model().config();
  for (const std::int32_t id : tokens)
    if (id < 0 || id >= config.vocab_size)
      return reject("token id " + std::to_string(id) + " outside the vocabulary");
  const auto n = static_cast<std::int64_t>(n_tokens);
  if (n >= generator.context_size()) return reject("it holds more tokens than the context size");

  InferenceState& state = generator.state();
  generator.reset();
  if (r.get<std::uint32_t>() != state.caches().size()) return reject("layer count differs");
  const std::int64_t row = config.num_key_value_heads * config.head_dim;
  std::vector<float> keys, values;
  for (KvCache& cache : state.caches()) {
    const auto begin = r.get<std::int64_t>();
    const auto end = r.get<std::int64_t>();
    if (r.get<std::int64_t>() != row || end != n || begin < 0 || begin > end)
      return reject("layer table does not match the model");
    const auto stored = static_cast<std::uint64_t>((end - begin) * row);
    if (!r.has(2 * stored * sizeof(float))) return reject("truncated layer data");
    // Positions before `begin` are not visible to later queries; zeros stand in for them.
    keys.assign(static_cast<std::size_t>(end * row), 0.0f);
    values.assign(keys.size(), 0.0f);
    r.bytes(keys.data() + begin * row, stored * sizeof(float));
    r.bytes(values.data() + begin * row, stored * sizeof(float));
    cache.append(keys.data(), values.data(), 0, end);
    if (cache.begin() != begin) return reject("layer window does not match the model");
  }
  state.advance(n);
  generator.set_cached_tokens(std::move(tokens));
  return "restored " + std::to_string(n) + " tokens from '" + file.string() + "'";
}

}  // namespace llama4
