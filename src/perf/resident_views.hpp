// perf/resident_views.hpp — a profile's weight views laid out as the engine decodes them.
#pragma once

#include <vector>

#include "formats/gguf.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/resident_matrices.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace inference::perf {

/// Copies the matrices of `views` (distinct tensors of `file`) into huge pages in the layout the
/// engine's decode kernels read (kernels::ResidentMatrices) and points the views at the copies,
/// releasing the file's pages: a profile then times what `infer run` runs. With `huge_pages`
/// false (`infer bench --no-huge-pages`) the views stay on the file mapping.
kernels::ResidentMatrices resident_views(const formats::GgufFile& file,
                                         const std::vector<kernels::WeightView*>& views,
                                         kernels::ThreadPool& pool, bool huge_pages);

}  // namespace inference::perf
