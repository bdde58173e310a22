// Huge-page allocation, advice and the count of a model's mapped pages (util/huge_pages.h).
#include "util/huge_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

#include "util/mapped_file.h"

namespace llama4 {
namespace {

TEST(HugePagesTest, AllocationsStartOnAHugePageAndHoldTheirBytes) {
  for (PageSize pages : {PageSize::kHuge, PageSize::kSmall}) {
    const std::size_t bytes = 3 * kHugePageBytes + 123;
    auto* data = static_cast<std::uint8_t*>(allocate_pages(bytes, pages));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(data) % kHugePageBytes, 0u);
    for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < bytes; ++i) sum += data[i];
    std::uint64_t expected = 0;
    for (std::size_t i = 0; i < bytes; ++i) expected += static_cast<std::uint8_t>(i * 7);
    EXPECT_EQ(sum, expected);
    free_pages(data, bytes);
  }
}

TEST(HugePagesTest, VectorsOverThePageAllocatorBehaveAsVectors) {
  std::vector<float, PageAllocator<float>> v{PageAllocator<float>(PageSize::kHuge)};
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<float>(i));
  auto copy = v;  // keeps the allocator, and so its page size
  EXPECT_EQ(copy.get_allocator().pages, PageSize::kHuge);
  EXPECT_EQ(std::accumulate(copy.begin(), copy.end(), 0.0), 999.0 * 1000.0 / 2.0);
}

TEST(HugePagesTest, AdviceRejectsNothingToAdvise) {
  EXPECT_FALSE(advise_huge_pages(nullptr, 4096));
  int local = 0;
  EXPECT_FALSE(advise_huge_pages(&local, 0));
}

TEST(HugePagesTest, CountsOnlyTheMappingsUnderTheDirectory) {
  const std::string smaps =
      "7f0000000000-7f0000400000 r--p 00000000 fe:00 1234   /models/scout/model-1.safetensors\n"
      "Size:               4096 kB\n"
      "Rss:                4096 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "VmFlags: rd mr mw me hg\n"
      "7f0000400000-7f0000401000 rw-p 00000000 00:00 0 \n"
      "Rss:                   4 kB\n"
      "FilePmdMapped:         0 kB\n"
      "7f0000600000-7f0000800000 r--p 00000000 fe:00 99   /models/scout-other/x.safetensors\n"
      "Rss:                2048 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "7f0000800000-7f0000a00000 r--p 00000000 fe:00 1235   /models/scout/model-2.safetensors\n"
      "Rss:                 100 kB\n"
      "FilePmdMapped:         0 kB\n";
  const MappedPages pages = count_file_mapping_pages(smaps, "/models/scout");
  EXPECT_EQ(pages.resident_bytes, (4096u + 100u) * 1024u);
  EXPECT_EQ(pages.huge_page_bytes, 2048u * 1024u);
  EXPECT_EQ(count_file_mapping_pages(smaps, "").resident_bytes, 0u);
  const std::string spaced =
      "7f0000000000-7f0000400000 r--p 00000000 fe:00 1234   /my models/scout/model.safetensors\n"
      "Rss:                4096 kB\n"
      "FilePmdMapped:      4096 kB\n";
  EXPECT_EQ(count_file_mapping_pages(spaced, "/my models/scout").huge_page_bytes, 4096u * 1024u);
}

TEST(HugePagesTest, SeesThisProcessMappingAFileItRead) {
  const auto dir = std::filesystem::temp_directory_path() / "llama4-huge-pages-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "weights.bin";
  {
    std::ofstream out(path, std::ios::binary);
    const std::vector<char> block(1 << 20, 'x');
    for (int i = 0; i < 4; ++i) out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  {
    const MappedFile file(path);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < file.bytes().size(); i += 4096)
      sum += static_cast<std::uint64_t>(file.bytes()[i]);
    EXPECT_EQ(sum, std::uint64_t{'x'} * 1024);
    const MappedPages pages = file_mapping_pages(dir);
    EXPECT_GE(pages.resident_bytes, std::uint64_t{4} << 20);  // every page was touched
    EXPECT_LE(pages.huge_page_bytes, pages.resident_bytes);
  }
  EXPECT_EQ(file_mapping_pages(dir).resident_bytes, 0u);  // unmapped with the file
  std::filesystem::remove_all(dir);
}

// Pages of `path` held in the page cache, from mincore on a map that touches none of them.
std::size_t cached_pages(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  const auto size = static_cast<std::size_t>(std::filesystem::file_size(path));
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  ::mincore(map, size, resident.data());
  ::munmap(map, size);
  return static_cast<std::size_t>(std::count_if(resident.begin(), resident.end(),
                                                [](unsigned char r) { return (r & 1) != 0; }));
}

TEST(HugePagesTest, ReleasedFilesLeaveThePageCacheIntact) {
  const auto dir = std::filesystem::temp_directory_path() / "llama4-release-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "written.bin";
  const std::vector<char> data(std::size_t{4} << 20, 'w');
  std::ofstream(path, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_GT(cached_pages(path), 0u);  // just written: in the cache
  release_from_page_cache(path);
  struct statfs fs {};
  ASSERT_EQ(::statfs(dir.c_str(), &fs), 0);
  if (fs.f_type != TMPFS_MAGIC) {  // tmpfs pages are the file itself
    EXPECT_EQ(cached_pages(path), 0u);
  }
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> back((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  EXPECT_EQ(back, data);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llama4
