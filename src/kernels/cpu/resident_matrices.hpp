// kernels/cpu/resident_matrices.hpp — weight matrices copied into anonymous memory advised as
// transparent huge pages and laid out for the active SIMD level's decode kernels: what the
// engine decodes from (engine/resident_weights.hpp) and what the profiles of `infer bench
// --profile` measure, so that both read the same layout from the same kind of pages.
//
// Decode streams every weight once per token. From a file mapping that stream walks 4 KiB pages:
// a TLB miss per page and hardware prefetchers that stop at every page boundary (one core read
// 22-24 GB/s from a mapped model file and 29 GB/s from huge pages on the 2-core AVX-512 host).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::kernels {

/// Whether this system grants transparent huge pages to memory advised for them (Linux with
/// /sys/kernel/mm/transparent_hugepage/enabled set to "always" or "madvise").
bool transparent_huge_pages_available() noexcept;

class ResidentMatrices {
 public:
  /// Called with source bytes once they are copied (a file mapping releases its pages).
  using ReleaseFn = std::function<void(const void* p, size_t n)>;

  ResidentMatrices() = default;
  ResidentMatrices(ResidentMatrices&& other) noexcept;
  ResidentMatrices& operator=(ResidentMatrices&& other) noexcept;
  ResidentMatrices(const ResidentMatrices&) = delete;
  ResidentMatrices& operator=(const ResidentMatrices&) = delete;
  ~ResidentMatrices();

  /// Copies each of `matrices` (distinct data pointers) into one huge-page region, rewrites
  /// those whose type interleaving_pays() into RowLayout::interleaved, makes the region
  /// read-only, and points every view in `views` whose data is a copied matrix's at its copy
  /// (with the copy's layout). `release` gets every copied source range. Nothing is copied
  /// (bytes() == 0) where huge pages are not available or the memory cannot be mapped.
  static ResidentMatrices adopt(const std::vector<WeightView*>& matrices,
                                const std::vector<WeightView*>& views, ThreadPool& pool,
                                const ReleaseFn& release);

  /// Bytes of the copies (0: nothing was copied).
  size_t bytes() const noexcept { return bytes_; }

 private:
  void* base_ = nullptr;
  size_t bytes_ = 0;   ///< of the copies
  size_t mapped_ = 0;  ///< of the mapping (a whole number of huge pages)
};

}  // namespace inference::kernels
