// engine/resident_weights.hpp — a model's weight matrices copied out of the file mapping into
// anonymous memory advised as transparent huge pages (kernels/cpu/resident_matrices.hpp says
// why). The copy replaces the file's pages in resident memory (they are released), so the
// process holds the weights once either way.
#pragma once

#include <cstddef>

#include "engine/model_files.hpp"
#include "engine/weights.hpp"
#include "kernels/cpu/resident_matrices.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::engine {

using kernels::transparent_huge_pages_available;

class ResidentWeights {
 public:
  /// Copies every matrix the decoder multiplies (the per-layer projections and the output
  /// matrix; the embedding too where it is the output matrix) that lies in `files`' mapping,
  /// points the views of `w` at the copies and releases the file's pages of them
  /// (kernels::ResidentMatrices: copies interleaved where that layout decodes faster, their views
  /// saying RowLayout::interleaved). Nothing is copied (bytes() == 0) where huge pages are not
  /// available or the memory cannot be mapped: the views then stay on the file.
  static ResidentWeights adopt(ModelWeights& w, const ModelFiles& files, kernels::ThreadPool& pool);

  /// Bytes of the copy (0: the weights are read from the file mapping).
  size_t bytes() const noexcept { return copies_.bytes(); }

 private:
  kernels::ResidentMatrices copies_;
};

}  // namespace inference::engine
