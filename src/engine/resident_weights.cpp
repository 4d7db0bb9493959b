// engine/resident_weights.cpp — see resident_weights.hpp.
#include "engine/resident_weights.hpp"

#include <algorithm>
#include <vector>

namespace inference::engine {
namespace {

// The distinct matrices of `w` that the decoder multiplies and that lie in the file mapping,
// each once (a tied embedding is the output matrix).
std::vector<kernels::WeightView*> mapped_matrices(ModelWeights& w, const ModelFiles& files) {
  std::vector<kernels::WeightView*> out;
  for (kernels::WeightView* m : multiplied_matrices(w)) {
    if (m->data == nullptr || !files.is_mapped(m->data)) continue;
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const kernels::WeightView* o) { return o->data == m->data; });
    if (!seen) out.push_back(m);
  }
  return out;
}

}  // namespace

ResidentWeights ResidentWeights::adopt(ModelWeights& w, const ModelFiles& files,
                                       kernels::ThreadPool& pool) {
  std::vector<kernels::WeightView*> views = multiplied_matrices(w);
  views.push_back(&w.token_embd);
  ResidentWeights out;
  out.copies_ = kernels::ResidentMatrices::adopt(
      mapped_matrices(w, files), views, pool,
      [&files](const void* p, size_t n) { files.release_pages(p, n); });
  return out;
}

}  // namespace inference::engine
