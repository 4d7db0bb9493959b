// perf/resident_views.cpp — see resident_views.hpp.
#include "perf/resident_views.hpp"

namespace inference::perf {

kernels::ResidentMatrices resident_views(const formats::GgufFile& file,
                                         const std::vector<kernels::WeightView*>& views,
                                         kernels::ThreadPool& pool, bool huge_pages) {
  if (!huge_pages) return {};
  return kernels::ResidentMatrices::adopt(
      views, views, pool, [&file](const void* p, size_t n) { file.release_pages(p, n); });
}

}  // namespace inference::perf
