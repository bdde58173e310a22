// Huge pages for the memory that kernels stream: the weights' file maps and large scratch buffers.
//
// A decoding step reads every active weight once, gigabytes in 4 KiB pages, and on a virtual
// machine each miss in the TLB walks two levels of page tables (the guest's and the host's). On
// the test machine (docs/PERFORMANCE.md, "Huge pages") one core streamed a 4-bit matrix at
// 4.8-5.4 GB/s from 4 KiB pages against 7.7-8.0 from 2 MiB ones, and a plain sum at 8-9 against
// 13.5-15. Linux backs a mapping with 2 MiB pages only when asked (THP mode "madvise") or when the
// page cache already holds the file in 2 MiB pieces, so the engine asks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace llama4 {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Asks the kernel to back [data, data + bytes) with huge pages (madvise MADV_HUGEPAGE) from the
// next fault on. Best effort: a kernel without transparent huge pages, or a range it cannot
// advise, keeps 4 KiB pages, which are correct, only slower. Returns whether the advice was taken.
bool advise_huge_pages(const void* data, std::size_t bytes);

enum class PageSize { kSmall, kHuge };

// Anonymous memory on a huge-page boundary, advised before its first touch so that every fault
// takes a whole 2 MiB page (kHuge), or never does (kSmall: for measuring what huge pages are
// worth). Throws std::bad_alloc when the kernel refuses the mapping. Free with free_pages.
void* allocate_pages(std::size_t bytes, PageSize pages);
void free_pages(void* data, std::size_t bytes) noexcept;

// Writes a file's data to disk and drops its pages from the page cache, so that the next reader
// reads it afresh, in 2 MiB pieces, rather than mapping the 4 KiB pieces it was written in (on the
// test machine a 4-bit model decoded 27.5-29 tokens/s from those against 33-35 from huge pages).
// For the writers of multi-gigabyte checkpoints. Best effort: errors are ignored (the file is
// complete either way), and a file system without a page cache of its own (tmpfs) keeps the pages.
void release_from_page_cache(const std::filesystem::path& path);

// How this process's mappings of the files under `directory` are backed: bytes resident in memory
// and, of those, bytes mapped by huge pages (from /proc/self/smaps; zeros where it cannot be read).
// Where the page cache holds a file in 4 KiB pieces (a file just written, say) the map cannot use
// huge pages, and decoding runs at the TLB's pace; `llama4 bench` reports it.
struct MappedPages {
  std::uint64_t resident_bytes = 0;
  std::uint64_t huge_page_bytes = 0;
};
MappedPages file_mapping_pages(const std::filesystem::path& directory);

// The same count over the text of an smaps file (exposed for tests).
MappedPages count_file_mapping_pages(std::string_view smaps, std::string_view directory);

// A std::vector allocator over allocate_pages, for buffers of megabytes that kernels stream
// (each allocation is its own mapping, so small ones would waste most of a page).
template <class T>
struct PageAllocator {
  using value_type = T;
  PageSize pages = PageSize::kHuge;

  PageAllocator() = default;
  explicit PageAllocator(PageSize size) : pages(size) {}
  template <class U>
  explicit PageAllocator(const PageAllocator<U>& other) : pages(other.pages) {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_pages(n * sizeof(T), pages)); }
  void deallocate(T* p, std::size_t n) noexcept { free_pages(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PageAllocator<U>& /*other*/) const {
    return true;  // any allocator frees any other's memory
  }
};

}  // namespace llama4
