// Tests of the memory map, the strict safetensors header validation (every rejected case names the
// file, the tensor and the problem) and the assembly of single, loose and sharded model folders.
#include "checkpoint/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "checkpoint/safetensors_writer.h"
#include "checkpoint/test_tensor_files.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace llama4 {
namespace {

using test_support::safetensors_bytes;
using test_support::TempDir;
using test_support::TensorFileBuilder;
using test_support::write_file;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* kFile = "model-x.safetensors";

std::span<const std::byte> as_span(const std::string& bytes) {
  return {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()};
}

// The message of the Error `action` throws ("" if it throws none).
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& header, std::string_view data = "") {
  const std::string bytes = safetensors_bytes(header, data);
  return error_of([&] { SafetensorsFile::parse(as_span(bytes), kFile); });
}

float read_element(const TensorInfo& info, std::size_t index) {
  const std::byte* p = info.data + index * dtype_size(info.dtype);
  std::uint16_t half = 0;
  float value = 0;
  switch (info.dtype) {
    case DType::F32:
      std::memcpy(&value, p, sizeof(value));
      return value;
    case DType::BF16:
      std::memcpy(&half, p, sizeof(half));
      return bf16_to_f32(half);
    case DType::F16:
      std::memcpy(&half, p, sizeof(half));
      return f16_to_f32(half);
    default:
      ADD_FAILURE() << "not a float dtype";
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// MappedFile

TEST(MappedFileTest, MapsTheWholeFile) {
  TempDir dir;
  write_file(dir.path() / "a.bin", "hello map");
  MappedFile file(dir.path() / "a.bin");
  ASSERT_EQ(file.bytes().size(), 9u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.bytes().data()), 9), "hello map");
  EXPECT_EQ(file.path(), dir.path() / "a.bin");
}

TEST(MappedFileTest, EmptyFileHasSizeZero) {
  TempDir dir;
  write_file(dir.path() / "empty", "");
  MappedFile file(dir.path() / "empty");
  EXPECT_EQ(file.bytes().size(), 0u);
}

TEST(MappedFileTest, MoveTransfersTheMapping) {
  TempDir dir;
  write_file(dir.path() / "a.bin", "abc");
  MappedFile first(dir.path() / "a.bin");
  const std::byte* data = first.bytes().data();
  MappedFile second(std::move(first));
  EXPECT_EQ(second.bytes().data(), data);
  EXPECT_EQ(second.bytes().size(), 3u);
  EXPECT_EQ(first.bytes().size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  MappedFile third;
  third = std::move(second);
  EXPECT_EQ(third.bytes().data(), data);
}

// Ranges of the map read from the file: the same bytes, anywhere in it (here across a page
// boundary and up to the last byte), and nothing for a range that is not all inside the map.
TEST(MappedFileTest, ReadsRangesOfItsMapFromTheFile) {
  TempDir dir;
  std::string text(3 * 4096 + 123, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 7 % 251);
  write_file(dir.path() / "a.bin", text);
  const MappedFile file(dir.path() / "a.bin");
  const std::byte* data = file.bytes().data();
  const std::size_t size = file.bytes().size();
  std::string read(5000, '\0');
  ASSERT_TRUE(file.read_without_map(data + 4000, read.data(), read.size()));
  EXPECT_EQ(read, text.substr(4000, 5000));
  ASSERT_TRUE(file.read_without_map(data + size - 10, read.data(), 10));
  EXPECT_EQ(read.substr(0, 10), text.substr(size - 10));
  EXPECT_FALSE(file.read_without_map(data + size - 10, read.data(), 11));
  const auto* before =
      reinterpret_cast<const std::byte*>(reinterpret_cast<std::uintptr_t>(data) - 1);
  EXPECT_FALSE(file.read_without_map(before, read.data(), 1));
  const std::string elsewhere = "not in the map";
  EXPECT_FALSE(file.read_without_map(elsewhere.data(), read.data(), 4));
  EXPECT_FALSE(MappedFile().read_without_map(data, read.data(), 1));
}

TEST(MappedFileTest, MissingFileNamesPathAndReason) {
  TempDir dir;
  const auto path = dir.path() / "absent.bin";
  EXPECT_THAT(error_of([&] { MappedFile file(path); }),
              AllOf(HasSubstr(path.string()), HasSubstr("No such file or directory")));
}

TEST(MappedFileTest, DirectoryIsRejected) {
  TempDir dir;
  EXPECT_THAT(error_of([&] { MappedFile file(dir.path()); }),
              AllOf(HasSubstr(dir.path().string()), HasSubstr("is a directory")));
}

// ---------------------------------------------------------------------------------------------
// SafetensorsFile: valid files

TEST(SafetensorsFileTest, RoundTripsEveryFloatDtype) {
  TempDir dir;
  const std::vector<float> values{1.5f, -2.25f, 0.0f, 3.0e-3f, 65504.0f, -7.0f};
  TensorFileBuilder writer;
  writer.add("f32", DType::F32, {2, 3}, values)
      .add("bf16", DType::BF16, {3, 2}, values)
      .add("f16", DType::F16, {6}, values)
      .add("scalar", DType::F32, {}, {42.0f})
      .metadata("format", "pt");
  writer.write(dir.path() / "m.safetensors");

  SafetensorsFile file(dir.path() / "m.safetensors");
  ASSERT_EQ(file.tensors().size(), 4u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  std::map<std::string, const TensorInfo*> by_name;
  for (const TensorInfo& t : file.tensors()) by_name[t.name] = &t;

  const TensorInfo& f32 = *by_name.at("f32");
  EXPECT_EQ(f32.dtype, DType::F32);
  EXPECT_EQ(f32.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(f32.numel(), 6);
  EXPECT_EQ(f32.nbytes, 24u);
  EXPECT_EQ(f32.stored_name, "f32");
  EXPECT_EQ(f32.file, (dir.path() / "m.safetensors").string());
  for (const char* name : {"f32", "bf16", "f16"}) {
    const TensorInfo& t = *by_name.at(name);
    for (std::size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(read_element(t, i), test_support::round_to(t.dtype, values[i])) << name << " " << i;
  }
  EXPECT_EQ(by_name.at("bf16")->dtype, DType::BF16);
  EXPECT_EQ(by_name.at("f16")->nbytes, 12u);
  EXPECT_EQ(by_name.at("scalar")->numel(), 1);
  EXPECT_EQ(read_element(*by_name.at("scalar"), 0), 42.0f);
}

// The files the engine writes (benchmark models, quantized copies) start their data on a cache
// line, so that tensors whose sizes are whole lines lie on line boundaries too; the padding is
// the header's trailing spaces, which any reader accepts.
TEST(SafetensorsWriterTest, DataStartsOnACacheLineAndReadsBack) {
  TempDir dir;
  const auto path = dir.path() / "w.safetensors";
  std::vector<std::uint16_t> first(32, 0x3f80), second(96);  // 64 and 192 bytes of bf16
  for (std::size_t i = 0; i < second.size(); ++i) second[i] = static_cast<std::uint16_t>(i);
  for (const std::string name : {"a", "a-longer-name-that-moves-the-header-end"}) {
    SafetensorsWriter writer(path);
    writer.declare(name, DType::BF16, {2, 16});
    writer.declare("second", DType::BF16, {96});
    writer.set_metadata("format", "pt");
    writer.write(std::as_bytes(std::span(first)));
    writer.write(std::as_bytes(std::span(second)));
    writer.finish();

    std::uint64_t header_length = 0;  // little-endian, as on every target
    std::ifstream(path, std::ios::binary)
        .read(reinterpret_cast<char*>(&header_length), sizeof header_length);
    EXPECT_EQ((sizeof header_length + header_length) % 64, 0u) << name;
    SafetensorsFile file(path);
    ASSERT_EQ(file.tensors().size(), 2u);
    for (const TensorInfo& t : file.tensors()) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data) % 64, 0u) << t.name;
      const auto& expected = t.name == "second" ? second : first;
      EXPECT_EQ(std::memcmp(t.data, expected.data(), t.nbytes), 0) << t.name;
    }
  }
}

TEST(SafetensorsFileTest, EmptyTensorsMayShareAnOffset) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("c":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})";
  const std::string bytes = safetensors_bytes(header, "abcd");
  const auto tensors = SafetensorsFile::parse(as_span(bytes), kFile);
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(tensors[0].name, "b");  // in data order
  EXPECT_EQ(tensors[1].numel(), 0);
}

// ---------------------------------------------------------------------------------------------
// SafetensorsFile: every validation error names the file, the tensor and the values

TEST(SafetensorsValidationTest, FileShorterThanLengthField) {
  const std::string bytes = "abc";
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(as_span(bytes), kFile); }),
              AllOf(HasSubstr(kFile), HasSubstr("3 bytes"), HasSubstr("too short")));
}

TEST(SafetensorsValidationTest, HeaderLengthPastEndOfFile) {
  std::string bytes = safetensors_bytes("{}", "");
  bytes[0] = 100;  // claims a 100-byte header in a 10-byte file
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(as_span(bytes), kFile); }),
              AllOf(HasSubstr(kFile), HasSubstr("header length 100"),
                    HasSubstr("past the end of the file (10 bytes)")));
}

TEST(SafetensorsValidationTest, AbsurdHeaderLength) {
  std::string bytes = safetensors_bytes("{}", "");
  bytes[5] = 1;  // 2^40 + 2
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(as_span(bytes), kFile); }),
              AllOf(HasSubstr(kFile), HasSubstr("header length 1099511627778"),
                    HasSubstr("exceeds the limit")));
}

TEST(SafetensorsValidationTest, HeaderNotJson) {
  EXPECT_THAT(parse_error(R"({"a": )"), AllOf(HasSubstr(kFile), HasSubstr("not valid JSON")));
  EXPECT_THAT(parse_error(""), AllOf(HasSubstr(kFile), HasSubstr("not valid JSON")));
}

TEST(SafetensorsValidationTest, HeaderNotAnObject) {
  EXPECT_THAT(parse_error("[1,2]"),
              AllOf(HasSubstr(kFile), HasSubstr("not a JSON object"), HasSubstr("[1,2]")));
}

TEST(SafetensorsValidationTest, EntryNotAnObject) {
  EXPECT_THAT(parse_error(R"({"w": 5})"), AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"),
                                                HasSubstr("not an object (found 5)")));
}

TEST(SafetensorsValidationTest, BadDtype) {
  EXPECT_THAT(parse_error(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("missing 'dtype'")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("'dtype' is not a string (4)")));
  EXPECT_THAT(
      parse_error(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", "abcd"),
      AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("unknown dtype (\"Q4\")")));
}

TEST(SafetensorsValidationTest, BadShape) {
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("missing 'shape'")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("'shape' is not an array (4)")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("non-negative integers"),
                    HasSubstr("[2,-1]")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("non-negative integers"), HasSubstr("1.5")));
}

TEST(SafetensorsValidationTest, ShapeWhoseByteSizeOverflows) {
  // 2^32 · 2^32 elements overflow before the dtype size is even applied.
  EXPECT_THAT(
      parse_error(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
                  "abcd"),
      AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("overflows 64 bits"),
            HasSubstr("[4294967296,4294967296]")));
  // 2^62 elements fit, 2^62 · 4 bytes do not.
  EXPECT_THAT(
      parse_error(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})",
                  "abcd"),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("overflows 64 bits")));
}

TEST(SafetensorsValidationTest, BadDataOffsets) {
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[1]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("missing 'data_offsets'")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "abcd"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("[begin, end]"),
                    HasSubstr("[0]")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("[begin, end]")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", "abcd"),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("begin is after end ([4,0])")));
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("past the data area"),
                    HasSubstr("[0,8]"), HasSubstr("4 bytes")));
}

TEST(SafetensorsValidationTest, ByteSizeDisagreesWithShape) {
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}})", "abcdefgh"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("span 8 bytes"),
                    HasSubstr("BF16 [3] needs 6")));
}

TEST(SafetensorsValidationTest, OverlappingTensors) {
  EXPECT_THAT(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                          "abcdefgh"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'b'"), HasSubstr("overlaps tensor 'a'"),
                    HasSubstr("[4,8] and [0,8]")));
}

TEST(SafetensorsValidationTest, DuplicateTensorName) {
  EXPECT_THAT(parse_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                          "abcdefgh"),
              AllOf(HasSubstr(kFile), HasSubstr("tensor 'w'"), HasSubstr("duplicate name")));
}

TEST(SafetensorsValidationTest, DuplicateKeyInsideAnEntry) {
  EXPECT_THAT(
      parse_error(R"({"w":{"dtype":"F32","dtype":"BF16","shape":[1],"data_offsets":[0,4]}})",
                  "abcd"),
      AllOf(HasSubstr(kFile), HasSubstr("duplicate key 'dtype'")));
}

TEST(SafetensorsValidationTest, MetadataMustBeAnObjectOfStrings) {
  EXPECT_THAT(parse_error(R"({"__metadata__": [1]})"),
              AllOf(HasSubstr(kFile), HasSubstr("'__metadata__' is not an object")));
  EXPECT_THAT(parse_error(R"({"__metadata__": {"format": 1}})"),
              AllOf(HasSubstr(kFile), HasSubstr("'format' is not a string (found 1)")));
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: model folders

TEST(CheckpointTest, SingleFileCanonicalNamesAndVisionSkipping) {
  TempDir dir;
  TensorFileBuilder()
      .add("language_model.model.norm.weight", DType::F32, {2}, {1, 2})
      .add("language_model.lm_head.weight", DType::BF16, {1, 2}, {3, 4})
      .add("vision_model.patch.weight", DType::F32, {1}, {5})
      .add("multi_modal_projector.linear_1.weight", DType::F32, {1}, {6})
      .add("language_model.vision_model.extra", DType::F32, {1}, {7})
      .write(dir.path() / "model.safetensors");
  // Loose files are ignored when model.safetensors exists.
  TensorFileBuilder().add("other", DType::F32, {1}, {8}).write(dir.path() / "zz.safetensors");

  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.tensors().size(), 2u);
  EXPECT_EQ(checkpoint.skipped_vision_tensors(), 3u);
  ASSERT_EQ(checkpoint.files().size(), 1u);
  EXPECT_EQ(checkpoint.files()[0], dir.path() / "model.safetensors");
  const TensorInfo* norm = checkpoint.find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->name, "model.norm.weight");
  EXPECT_EQ(norm->stored_name, "language_model.model.norm.weight");
  EXPECT_EQ(read_element(*norm, 1), 2.0f);
  const TensorInfo* head = checkpoint.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(read_element(*head, 1), 4.0f);
  EXPECT_EQ(checkpoint.find("language_model.model.norm.weight"), nullptr);
  EXPECT_EQ(checkpoint.find("other"), nullptr);
}

TEST(CheckpointTest, LooseFilesAreReadInSortedOrder) {
  TempDir dir;
  TensorFileBuilder().add("b", DType::F32, {1}, {2}).write(dir.path() / "b.safetensors");
  TensorFileBuilder().add("a", DType::F32, {1}, {1}).write(dir.path() / "a.safetensors");
  write_file(dir.path() / "notes.txt", "not a tensor file");
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  ASSERT_EQ(checkpoint.files().size(), 2u);
  EXPECT_EQ(checkpoint.files()[0].filename(), "a.safetensors");
  EXPECT_EQ(checkpoint.files()[1].filename(), "b.safetensors");
  ASSERT_NE(checkpoint.find("b"), nullptr);
  EXPECT_EQ(read_element(*checkpoint.find("b"), 0), 2.0f);
  EXPECT_EQ(checkpoint.find("b")->file, (dir.path() / "b.safetensors").string());
}

TEST(CheckpointTest, EmptyFolderIsAnError) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { Checkpoint::open(dir.path()); }),
            "no *.safetensors files in " + dir.path().string());
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path() / "absent"); }),
              HasSubstr("not a directory"));
}

TEST(CheckpointTest, DuplicateCanonicalNamesAcrossFiles) {
  TempDir dir;
  TensorFileBuilder()
      .add("language_model.model.norm.weight", DType::F32, {1}, {1})
      .write(dir.path() / "a.safetensors");
  TensorFileBuilder()
      .add("model.norm.weight", DType::F32, {1}, {2})
      .write(dir.path() / "b.safetensors");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("b.safetensors: tensor 'model.norm.weight'"),
                    HasSubstr("already provided by tensor 'language_model.model.norm.weight'"),
                    HasSubstr("a.safetensors")));
}

TEST(CheckpointTest, InvalidFileErrorNamesTheFile) {
  TempDir dir;
  write_file(dir.path() / "model.safetensors", "tiny");
  EXPECT_THAT(
      error_of([&] { Checkpoint::open(dir.path()); }),
      AllOf(HasSubstr((dir.path() / "model.safetensors").string()), HasSubstr("too short")));
}

// Two shards and an index over them; `weight_map` is the index's map as JSON text.
void write_sharded(const TempDir& dir, const std::string& weight_map) {
  TensorFileBuilder()
      .add("language_model.model.embed_tokens.weight", DType::F32, {2, 2}, {1, 2, 3, 4})
      .add("vision_model.x", DType::F32, {1}, {0})
      .write(dir.path() / "model-00001-of-00002.safetensors");
  TensorFileBuilder()
      .add("language_model.model.norm.weight", DType::F16, {2}, {5, 6})
      .write(dir.path() / "model-00002-of-00002.safetensors");
  write_file(dir.path() / "model.safetensors.index.json",
             R"({"metadata": {"total_size": 28}, "weight_map": )" + weight_map + "}");
}

constexpr const char* kGoodWeightMap =
    R"({"language_model.model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "vision_model.x": "model-00001-of-00002.safetensors",
        "language_model.model.norm.weight": "model-00002-of-00002.safetensors"})";

TEST(CheckpointTest, ShardedIndex) {
  TempDir dir;
  write_sharded(dir, kGoodWeightMap);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.files().size(), 2u);
  EXPECT_EQ(checkpoint.tensors().size(), 2u);
  EXPECT_EQ(checkpoint.skipped_vision_tensors(), 1u);
  ASSERT_NE(checkpoint.find("model.embed_tokens.weight"), nullptr);
  EXPECT_EQ(read_element(*checkpoint.find("model.embed_tokens.weight"), 3), 4.0f);
  ASSERT_NE(checkpoint.find("model.norm.weight"), nullptr);
  EXPECT_EQ(read_element(*checkpoint.find("model.norm.weight"), 1), 6.0f);
  EXPECT_THAT(checkpoint.find("model.norm.weight")->file, HasSubstr("model-00002-of-00002"));
}

TEST(CheckpointTest, IndexNamingAMissingShard) {
  TempDir dir;
  write_sharded(dir, R"({"language_model.model.norm.weight": "model-00003-of-00002.safetensors"})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("model.safetensors.index.json"),
                    HasSubstr("tensor 'language_model.model.norm.weight'"),
                    HasSubstr("shard 'model-00003-of-00002.safetensors' does not exist")));
}

TEST(CheckpointTest, IndexListsATensorTheShardLacks) {
  TempDir dir;
  write_sharded(dir, R"({"language_model.model.norm.weight": "model-00001-of-00002.safetensors"})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }),
              AllOf(HasSubstr("model.safetensors.index.json"),
                    HasSubstr("tensor 'language_model.model.norm.weight'"),
                    HasSubstr("listed in shard 'model-00001-of-00002.safetensors'"),
                    HasSubstr("does not contain it")));
}

TEST(CheckpointTest, IndexShardNamesMustStayInTheFolder) {
  for (const std::string shard : {"../model.safetensors", "sub/model.safetensors", "..", ""}) {
    TempDir dir;
    write_sharded(dir, R"({"w": ")" + shard + R"("})");
    EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }),
                AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("tensor 'w'"),
                      HasSubstr("plain file name"), HasSubstr("\"" + shard + "\"")))
        << shard;
  }
}

TEST(CheckpointTest, MalformedIndex) {
  TempDir dir;
  write_file(dir.path() / "model.safetensors.index.json", R"({"weight_map": [1]})");
  EXPECT_THAT(
      error_of([&] { Checkpoint::open(dir.path()); }),
      AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("'weight_map' is not an object")));
  write_file(dir.path() / "model.safetensors.index.json", R"({"metadata": {}})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }), HasSubstr("missing 'weight_map'"));
  write_file(dir.path() / "model.safetensors.index.json", "{");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir.path()); }), HasSubstr("not valid JSON"));
}

}  // namespace
}  // namespace llama4
