// engine/resident_weights.hpp — the weight matrices copied out of the file mapping into
// anonymous memory advised as transparent huge pages.
//
// Decode streams every weight once per token. From a file mapping that stream walks 4 KiB pages:
// a TLB miss per page and hardware prefetchers that stop at every page boundary. Measured on
// the 2-core AVX-512 host, one core read 22-24 GB/s from a mapped model file and 29 GB/s from
// huge pages (the memory `infer bench --bandwidth` measures with); the Q4_K row kernel streamed
// 19.6 against 22 GB/s. The copy replaces the file's pages in resident memory (they are
// released), so the process holds the weights once either way.
#pragma once

#include <cstddef>

#include "engine/model_files.hpp"
#include "engine/weights.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::engine {

/// Whether this system grants transparent huge pages to memory advised for them (Linux with
/// /sys/kernel/mm/transparent_hugepage/enabled set to "always" or "madvise").
bool transparent_huge_pages_available() noexcept;

class ResidentWeights {
 public:
  ResidentWeights() = default;
  ResidentWeights(ResidentWeights&& other) noexcept;
  ResidentWeights& operator=(ResidentWeights&& other) noexcept;
  ResidentWeights(const ResidentWeights&) = delete;
  ResidentWeights& operator=(const ResidentWeights&) = delete;
  ~ResidentWeights();

  /// Copies every matrix the decoder multiplies (the per-layer projections and the output
  /// matrix; the embedding too where it is the output matrix) that lies in `files`' mapping,
  /// points the views of `w` at the copies and releases the file's pages of them. Q4_0/Q4_1/
  /// Q5_0/Q5_1/Q8_0 copies are interleaved where that layout decodes faster (kernels::interleaving_pays)
  /// and their views say RowLayout::interleaved. Nothing is copied (bytes() == 0) where huge pages
  /// are not available or the memory cannot be mapped: the views then stay on the file.
  static ResidentWeights adopt(ModelWeights& w, const ModelFiles& files, kernels::ThreadPool& pool);

  /// Bytes of the copy (0: the weights are read from the file mapping).
  size_t bytes() const noexcept { return bytes_; }

 private:
  void* base_ = nullptr;
  size_t bytes_ = 0;   ///< of the copies
  size_t mapped_ = 0;  ///< of the mapping (a whole number of huge pages)
};

}  // namespace inference::engine
