// Transparent huge pages for the wasm heap. The tensors live in the wasm memory, one anonymous mapping that V8
// grows in place; with THP in "madvise" mode (Debian's default) it is backed by 4 KiB pages, so the memory-bound
// kernels that stream through hundreds of MB per step walk page tables for every 4 KiB. Each time a kernel sees the
// heap at a new size, the 2 MiB-aligned part of it is advised MADV_HUGEPAGE and collapsed (MADV_COLLAPSE, Linux
// 6.1+; where it is missing, new faults still get huge pages). DISTILLERY_HUGEPAGES=0 turns this off.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace distillery {

void AdviseHugePages(uint8_t* heap, size_t bytes) {
  static const bool enabled = [] {
    const char* v = std::getenv("DISTILLERY_HUGEPAGES");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  if (!enabled || heap == nullptr) return;
  // Every N-API call passes the heap: the usual case (nothing new) is two relaxed loads, no lock.
  static std::atomic<uint8_t*> seenHeapA{nullptr};
  static std::atomic<size_t> seenBytesA{0};
  if (heap == seenHeapA.load(std::memory_order_relaxed) && bytes == seenBytesA.load(std::memory_order_relaxed)) return;
  static std::mutex mu;
  static uint8_t* seenHeap = nullptr;
  static size_t seenBytes = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (heap == seenHeap && bytes == seenBytes) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(heap) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(heap) + bytes) & ~(kHuge - 1);
  // Only the part not advised yet (the heap grows in place; a new mapping is advised whole).
  uintptr_t from = begin;
  if (heap == seenHeap) from = std::max(begin, (reinterpret_cast<uintptr_t>(heap) + seenBytes) & ~(kHuge - 1));
  if (end > from) {
    void* p = reinterpret_cast<void*>(from);
    const size_t n = end - from;
    if (madvise(p, n, MADV_HUGEPAGE) == 0) (void)madvise(p, n, MADV_COLLAPSE);  // best effort either way
  }
  seenHeap = heap;
  seenBytes = bytes;
  seenHeapA.store(heap, std::memory_order_relaxed);
  seenBytesA.store(bytes, std::memory_order_relaxed);
}

}  // namespace distillery
