// perf/resident_views.cpp — see resident_views.hpp.
#include "perf/resident_views.hpp"

#include <algorithm>

namespace inference::perf {

kernels::WeightView file_view(const formats::GgufTensor& t) {
  return {t.type, t.data.data(), t.ne[1], t.ne[0], static_cast<size_t>(t.n_bytes / t.ne[1])};
}

ResidentTensors::ResidentTensors(const formats::GgufFile& file, kernels::ThreadPool& pool,
                                 bool huge_pages) {
  for (const auto& t : file.tensors()) {
    if (t.ne.size() != 2 || !kernels::matmul_supported(t.type)) continue;
    views_.push_back(file_view(t));
    sources_.push_back(t.data.data());
  }
  if (!huge_pages) return;
  std::vector<kernels::WeightView*> matrices;
  for (kernels::WeightView& v : views_) matrices.push_back(&v);
  copies_ = kernels::ResidentMatrices::adopt(
      matrices, matrices, pool, [&file](const void* p, size_t n) { file.release_pages(p, n); });
}

kernels::WeightView ResidentTensors::view(const formats::GgufTensor& t) const {
  const auto it = std::find(sources_.begin(), sources_.end(), t.data.data());
  if (it == sources_.end()) return file_view(t);
  return views_[static_cast<size_t>(it - sources_.begin())];
}

}  // namespace inference::perf
