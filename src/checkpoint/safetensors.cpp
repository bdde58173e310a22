// Safetensors reading: strict validation of each file's header before any tensor byte is trusted,
// and the assembly of a model folder (single file, index + shards, or loose files) into one table
// of canonical text-model tensor names. A bad download should fail here with the file, tensor and
// values named, not later as a crash or as silently wrong numbers.
#include "checkpoint/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>
#include <utility>

#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::json;

constexpr std::size_t kHeaderLengthBytes = 8;                  // u64 little-endian before the JSON
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;        // real headers are a few MiB at most
constexpr std::size_t kMaxTensorCount = std::size_t{1} << 20;  // far above any real model
constexpr std::string_view kMetadataKey = "__metadata__";

constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
constexpr std::string_view kSingleFileName = "model.safetensors";
constexpr std::string_view kSafetensorsExtension = ".safetensors";
constexpr std::string_view kLanguageModelPrefix = "language_model.";
constexpr std::string_view kVisionPrefixes[] = {"vision_model.", "multi_modal_projector."};

std::string offsets_string(std::uint64_t begin, std::uint64_t end) {
  // Formatted with snprintf: building it from std::string pieces trips a false -Wrestrict in
  // GCC 12.
  char text[64];
  std::snprintf(text, sizeof text, "[%llu,%llu]", static_cast<unsigned long long>(begin),
                static_cast<unsigned long long>(end));
  return text;
}

// A JSON value as it was written, shortened so a huge value cannot flood the message.
std::string json_excerpt(const json& value) {
  constexpr std::size_t kMaxExcerpt = 80;
  std::string text = value.dump();
  if (text.size() > kMaxExcerpt) text = text.substr(0, kMaxExcerpt) + "...";
  return text;
}

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw Error(file + ": " + problem);
}

[[noreturn]] void fail_tensor(const std::string& file, const std::string& name,
                              const std::string& problem) {
  throw Error(file + ": tensor '" + name + "': " + problem);
}

std::uint64_t read_u64_le(const std::byte* bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kHeaderLengthBytes; ++i)
    value |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return value;
}

// Parses JSON text, rejecting duplicate keys: nlohmann keeps the last of two equal keys silently,
// which would hide a second, conflicting tensor entry.
json parse_json_rejecting_duplicates(std::string_view text, const std::string& file,
                                     const std::string& what) {
  std::vector<std::set<std::string>> keys_of_open_objects;
  std::string duplicate;
  bool duplicate_at_top_level = false;
  auto track_keys = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys_of_open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys_of_open_objects.empty() && duplicate.empty() &&
            !keys_of_open_objects.back().insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
          duplicate_at_top_level = keys_of_open_objects.size() == 1;
        }
        break;
      default:
        break;
    }
    return true;
  };
  json parsed;
  try {
    parsed = json::parse(text.begin(), text.end(), track_keys);
  } catch (const json::exception& e) {
    fail(file, what + " is not valid JSON (" + e.what() + ")");
  }
  if (!duplicate.empty()) {
    if (duplicate_at_top_level)
      fail_tensor(file, duplicate, "duplicate name (the " + what + " lists it more than once)");
    fail(file, "duplicate key '" + duplicate + "' in the " + what);
  }
  return parsed;
}

// A JSON number that is a non-negative integer, else nullopt (floats, negatives, strings...).
std::optional<std::uint64_t> as_unsigned(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& file) {
  if (!value.is_object())
    fail(file, "'__metadata__' is not an object (found " + json_excerpt(value) + ")");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string())
      fail(file, "'__metadata__' value of '" + key + "' is not a string (found " +
                     json_excerpt(entry) + ")");
    metadata[key] = entry.get<std::string>();
  }
  return metadata;
}

// Where one tensor's bytes lie, relative to the data area, before they are checked against others.
struct Extent {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// Validates one header entry and returns its tensor (data not yet pointed) and its extent.
std::pair<TensorInfo, Extent> parse_entry(const std::string& name, const json& entry,
                                          std::uint64_t data_size, const std::string& file) {
  if (!entry.is_object())
    fail_tensor(file, name, "entry is not an object (found " + json_excerpt(entry) + ")");
  TensorInfo info;
  info.name = name;
  info.stored_name = name;
  info.file = file;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) fail_tensor(file, name, "missing 'dtype'");
  if (!dtype_it->is_string())
    fail_tensor(file, name, "'dtype' is not a string (" + json_excerpt(*dtype_it) + ")");
  const auto dtype = dtype_from_name(dtype_it->get<std::string>());
  if (!dtype) fail_tensor(file, name, "unknown dtype (" + json_excerpt(*dtype_it) + ")");
  info.dtype = *dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end()) fail_tensor(file, name, "missing 'shape'");
  if (!shape_it->is_array())
    fail_tensor(file, name, "'shape' is not an array (" + json_excerpt(*shape_it) + ")");
  std::uint64_t bytes_needed = dtype_size(info.dtype);
  for (const json& dim : *shape_it) {
    const auto size = as_unsigned(dim);
    if (!size || *size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_tensor(file, name,
                  "'shape' must hold non-negative integers (" + json_excerpt(*shape_it) + ")");
    if (__builtin_mul_overflow(bytes_needed, *size, &bytes_needed))
      fail_tensor(
          file, name,
          "shape is too large: its byte size overflows 64 bits (" + json_excerpt(*shape_it) + ")");
    info.shape.push_back(static_cast<std::int64_t>(*size));
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) fail_tensor(file, name, "missing 'data_offsets'");
  const auto begin = offsets_it->is_array() && offsets_it->size() == 2
                         ? as_unsigned((*offsets_it)[0])
                         : std::nullopt;
  const auto end = begin ? as_unsigned((*offsets_it)[1]) : std::nullopt;
  if (!begin || !end)
    fail_tensor(file, name,
                "'data_offsets' must be [begin, end] of non-negative integers (" +
                    json_excerpt(*offsets_it) + ")");
  if (*begin > *end)
    fail_tensor(file, name,
                "data_offsets begin is after end (" + offsets_string(*begin, *end) + ")");
  if (*end > data_size)
    fail_tensor(file, name,
                "data_offsets run past the data area (" + offsets_string(*begin, *end) +
                    ", data area is " + std::to_string(data_size) + " bytes)");
  if (*end - *begin != bytes_needed)
    fail_tensor(file, name,
                "data_offsets span " + std::to_string(*end - *begin) + " bytes but " +
                    std::string(dtype_name(info.dtype)) + " " + shape_string(info.shape) +
                    " needs " + std::to_string(bytes_needed) + " (" + offsets_string(*begin, *end) +
                    ")");
  info.nbytes = static_cast<std::size_t>(bytes_needed);
  return {std::move(info), Extent{*begin, *end}};
}

// Canonical text-model name, or nullopt for vision tensors.
std::optional<std::string> canonical_name(std::string_view stored) {
  if (stored.starts_with(kLanguageModelPrefix)) stored.remove_prefix(kLanguageModelPrefix.size());
  for (std::string_view prefix : kVisionPrefixes)
    if (stored.starts_with(prefix)) return std::nullopt;
  return std::string(stored);
}

std::string read_text_file(const std::filesystem::path& path) {
  // An ifstream opens a directory without complaint and reads nothing, which would surface as a
  // misleading "not valid JSON".
  if (std::filesystem::is_directory(path))
    throw Error(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  return text.str();
}

// A shard name from the index must name a file inside the model folder.
void check_shard_name(const std::string& shard, const std::string& tensor,
                      const std::string& index) {
  const bool escapes = shard.empty() || shard == "." || shard == ".." ||
                       shard.find('/') != std::string::npos ||
                       shard.find('\\') != std::string::npos;
  if (escapes)
    fail(index, "tensor '" + tensor +
                    "': shard file name must be a plain file name in the folder (\"" + shard +
                    "\")");
}

// weight_map of an index: tensor name → shard file name, validated.
std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index_path) {
  const std::string index = index_path.string();
  const json root = parse_json_rejecting_duplicates(read_text_file(index_path), index, "index");
  if (!root.is_object()) fail(index, "index is not a JSON object");
  const auto map_it = root.find("weight_map");
  if (map_it == root.end()) fail(index, "missing 'weight_map'");
  if (!map_it->is_object())
    fail(index, "'weight_map' is not an object (found " + json_excerpt(*map_it) + ")");
  if (map_it->empty()) fail(index, "'weight_map' lists no tensors");
  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string())
      fail(index, "tensor '" + tensor + "': shard is not a string (" + json_excerpt(shard) + ")");
    check_shard_name(shard.get<std::string>(), tensor, index);
    weight_map[tensor] = shard.get<std::string>();
  }
  return weight_map;
}

std::vector<std::filesystem::path> loose_safetensors_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error))
    if (it->is_regular_file() && it->path().extension() == kSafetensorsExtension)
      files.push_back(it->path());
  if (error) throw Error(dir.string() + ": cannot list the folder: " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::int64_t TensorInfo::numel() const {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) count *= dim;
  return count;
}

std::vector<TensorInfo> SafetensorsFile::parse(std::span<const std::byte> file_bytes,
                                               const std::string& file_name,
                                               std::map<std::string, std::string>* metadata) {
  if (file_bytes.size() < kHeaderLengthBytes)
    fail(file_name, "file is " + std::to_string(file_bytes.size()) +
                        " bytes, too short for the 8-byte header length");
  const std::uint64_t header_length = read_u64_le(file_bytes.data());
  if (header_length > kMaxHeaderBytes)
    fail(file_name, "header length " + std::to_string(header_length) + " exceeds the limit of " +
                        std::to_string(kMaxHeaderBytes) + " bytes");
  const std::uint64_t after_length = file_bytes.size() - kHeaderLengthBytes;
  if (header_length > after_length)
    fail(file_name, "header length " + std::to_string(header_length) +
                        " runs past the end of the file (" + std::to_string(file_bytes.size()) +
                        " bytes)");

  const std::string_view header_text(
      reinterpret_cast<const char*>(file_bytes.data() + kHeaderLengthBytes), header_length);
  const json header = parse_json_rejecting_duplicates(header_text, file_name, "header");
  if (!header.is_object())
    fail(file_name, "header is not a JSON object (found " + json_excerpt(header) + ")");

  const std::size_t tensor_count = header.size() - (header.contains(kMetadataKey) ? 1 : 0);
  if (tensor_count > kMaxTensorCount)
    fail(file_name, "header lists " + std::to_string(tensor_count) +
                        " tensors, more than the limit of " + std::to_string(kMaxTensorCount));

  const std::byte* data_area = file_bytes.data() + kHeaderLengthBytes + header_length;
  const std::uint64_t data_size = after_length - header_length;
  std::vector<std::pair<TensorInfo, Extent>> entries;
  entries.reserve(tensor_count);
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      auto parsed = parse_metadata(entry, file_name);
      if (metadata != nullptr) *metadata = std::move(parsed);
      continue;
    }
    entries.push_back(parse_entry(name, entry, data_size, file_name));
  }

  // Overlap check in offset order; empty tensors occupy no bytes and cannot overlap anything.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.begin, a.second.end) < std::tie(b.second.begin, b.second.end);
  });
  const std::pair<TensorInfo, Extent>* previous = nullptr;
  std::vector<TensorInfo> tensors;
  tensors.reserve(entries.size());
  for (auto& entry : entries) {
    const Extent& extent = entry.second;
    if (extent.end > extent.begin) {
      if (previous != nullptr && extent.begin < previous->second.end)
        fail_tensor(file_name, entry.first.name,
                    "data overlaps tensor '" + previous->first.name + "' (" +
                        offsets_string(extent.begin, extent.end) + " and " +
                        offsets_string(previous->second.begin, previous->second.end) + ")");
      previous = &entry;
    }
  }
  for (auto& [info, extent] : entries) {
    info.data = data_area + extent.begin;
    tensors.push_back(std::move(info));
  }
  return tensors;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
  // In the body: metadata_ is declared after tensors_, so it does not exist yet in the
  // initializers.
  tensors_ = parse(file_.bytes(), path.string(), &metadata_);
}

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw Error(dir.string() + ": not a directory (expected a model folder)");

  Checkpoint checkpoint;
  // Maps one file and adds its text tensors under canonical names; a name seen twice is an error
  // naming both files, since which copy is meant cannot be guessed.
  auto add_file = [&checkpoint](const std::filesystem::path& path) -> const SafetensorsFile& {
    auto file = std::make_unique<SafetensorsFile>(path);
    for (const TensorInfo& stored : file->tensors()) {
      const auto name = canonical_name(stored.stored_name);
      if (!name) {
        ++checkpoint.skipped_vision_;
        continue;
      }
      TensorInfo info = stored;
      info.name = *name;
      const auto [it, inserted] = checkpoint.tensors_.emplace(*name, info);
      if (!inserted)
        throw Error(path.string() + ": tensor '" + stored.stored_name + "': canonical name '" +
                    *name + "' is already provided by tensor '" + it->second.stored_name + "' in " +
                    it->second.file);
    }
    checkpoint.files_.push_back(path);
    checkpoint.shards_.push_back(std::move(file));
    return *checkpoint.shards_.back();
  };

  const std::filesystem::path index_path = dir / kIndexFileName;
  if (std::filesystem::exists(index_path)) {
    const std::map<std::string, std::string> weight_map = read_weight_map(index_path);
    std::map<std::string, std::vector<std::string>> tensors_by_shard;
    for (const auto& [tensor, shard] : weight_map) tensors_by_shard[shard].push_back(tensor);
    for (const auto& [shard, listed] : tensors_by_shard) {
      const std::filesystem::path shard_path = dir / shard;
      if (!std::filesystem::is_regular_file(shard_path))
        fail(index_path.string(), "tensor '" + listed.front() + "': shard '" + shard +
                                      "' does not exist (" + shard_path.string() + ")");
    }
    for (const auto& [shard, listed] : tensors_by_shard) {
      const SafetensorsFile& file = add_file(dir / shard);
      std::set<std::string_view> present;
      for (const TensorInfo& info : file.tensors()) present.insert(info.stored_name);
      for (const std::string& tensor : listed)
        if (!present.contains(tensor))
          fail(index_path.string(), "tensor '" + tensor + "': listed in shard '" + shard +
                                        "', which does not contain it");
    }
  } else if (std::filesystem::exists(dir / kSingleFileName)) {
    add_file(dir / kSingleFileName);
  } else {
    const auto files = loose_safetensors_files(dir);
    if (files.empty()) throw Error("no *.safetensors files in " + dir.string());
    for (const auto& path : files) add_file(path);
  }
  return checkpoint;
}

const TensorInfo* Checkpoint::find(const std::string& canonical_name) const {
  const auto it = tensors_.find(canonical_name);
  return it == tensors_.end() ? nullptr : &it->second;
}

bool Checkpoint::read_without_map(const void* where, void* into, std::size_t count) const {
  for (const auto& shard : shards_)
    if (shard->mapped().read_without_map(where, into, count)) return true;
  return false;
}

}  // namespace llama4
