// perf/resident_views.hpp — a GGUF file's weight matrices laid out as the engine decodes them,
// once for all the profiles of a run.
#pragma once

#include <vector>

#include "formats/gguf.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/resident_matrices.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::perf {

class ResidentTensors {
 public:
  /// Copies every 2-D tensor of `file` the kernels multiply into huge pages in the layout the
  /// engine's decode kernels read (kernels::ResidentMatrices), releasing the file's pages: the
  /// profiles then time what `infer run` runs. With `huge_pages` false (`infer bench
  /// --no-huge-pages`) the tensors stay on the file mapping.
  ResidentTensors(const formats::GgufFile& file, kernels::ThreadPool& pool, bool huge_pages);

  /// The view of tensor `t` of the file: on its copy where there is one.
  kernels::WeightView view(const formats::GgufTensor& t) const;

 private:
  std::vector<kernels::WeightView> views_;  // in file order, the copied ones moved
  std::vector<const void*> sources_;        // where each lies in the file
  kernels::ResidentMatrices copies_;
};

/// The view of a 2-D tensor as the file stores it.
kernels::WeightView file_view(const formats::GgufTensor& t);

}  // namespace inference::perf
