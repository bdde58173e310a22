// Huge-page advice and allocation (see huge_pages.h for why the engine asks for them).
#include "util/huge_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <new>
#include <sstream>
#include <string>

namespace llama4 {
namespace {

std::size_t page_bytes() {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::size_t round_up(std::size_t value, std::size_t to) {
  return (value + to - 1) / to * to;
}

// Bytes from `address` up to the next multiple of `alignment` (0 if it is one).
std::size_t bytes_to_boundary(const void* address, std::size_t alignment) {
  const auto offset = reinterpret_cast<std::uintptr_t>(address) % alignment;
  return offset == 0 ? 0 : alignment - offset;
}

// What allocate_pages maps for `bytes`, and so what free_pages unmaps.
std::size_t mapped_bytes(std::size_t bytes) {
  return round_up(bytes == 0 ? 1 : bytes, kHugePageBytes);
}

}  // namespace

bool advise_huge_pages(const void* data, std::size_t bytes) {
  if (data == nullptr || bytes == 0) return false;
  // madvise wants a page-aligned start; the pages it widens to are the caller's own mapping.
  const std::size_t page = page_bytes();
  const std::size_t before = (page - bytes_to_boundary(data, page)) % page;
  auto* begin = const_cast<std::byte*>(static_cast<const std::byte*>(data)) - before;
  return ::madvise(begin, bytes + before, MADV_HUGEPAGE) == 0;
}

void* allocate_pages(std::size_t bytes, PageSize pages) {
  // Whole huge pages (a partial one at the end would stay in 4 KiB pages). Over-map by one and
  // trim both ends, so the kept range starts on a 2 MiB boundary whatever address the kernel chose.
  const std::size_t rounded = mapped_bytes(bytes);
  const std::size_t mapped = rounded + kHugePageBytes;
  void* raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const std::size_t head = bytes_to_boundary(raw, kHugePageBytes);
  std::byte* aligned = static_cast<std::byte*>(raw) + head;
  if (head > 0) ::munmap(raw, head);
  ::munmap(aligned + rounded, mapped - head - rounded);  // at least a page: head < a huge page
  if (pages == PageSize::kHuge)
    advise_huge_pages(aligned, rounded);
  else
    ::madvise(aligned, rounded, MADV_NOHUGEPAGE);
  return aligned;
}

void free_pages(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) return;
  ::munmap(data, mapped_bytes(bytes));
}

void release_from_page_cache(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  // Dirty pages cannot be dropped: write them first.
  if (::fdatasync(fd) == 0) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

MappedPages count_file_mapping_pages(std::string_view smaps, std::string_view directory) {
  // Each mapping starts with a line "start-end perms offset dev inode [path]" and goes on with
  // "Field:   N kB" lines. Only mappings whose path lies under `directory` are counted.
  constexpr std::uint64_t kKiB = 1024;
  MappedPages pages;
  bool counting = false;
  std::istringstream lines{std::string(smaps)};
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first.empty()) continue;
    if (first.back() != ':') {  // a mapping's header: the rest after the fifth field is the path
      std::string perms, offset, device, inode, path;
      fields >> perms >> offset >> device >> inode;
      std::getline(fields >> std::ws, path);
      const std::string prefix = std::string(directory) + "/";
      counting = !directory.empty() && path.starts_with(prefix);
      continue;
    }
    std::uint64_t kib = 0;
    if (!counting || !(fields >> kib)) continue;
    if (first == "Rss:") pages.resident_bytes += kib * kKiB;
    if (first == "FilePmdMapped:") pages.huge_page_bytes += kib * kKiB;
  }
  return pages;
}

MappedPages file_mapping_pages(const std::filesystem::path& directory) {
  std::ifstream file("/proc/self/smaps");
  if (!file) return {};
  std::stringstream text;
  text << file.rdbuf();
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::weakly_canonical(directory, error);
  return count_file_mapping_pages(text.str(), (error ? directory : absolute).string());
}

}  // namespace llama4
