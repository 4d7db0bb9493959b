// ml/worker_pool.hpp — running independent items at most N at a time.
#pragma once

#include <cstddef>
#include <functional>

#include "inference/context.hpp"

namespace inference::ml {

/// Calls work(i) for every i in [0, count) on at most `concurrency` threads (>= 1), handing out
/// indices in order. Stops handing out new items once `ctx` is done. The first exception thrown
/// by `work` stops the hand-out and is rethrown after every running item has returned.
void parallel_for(const Context& ctx, size_t count, int concurrency,
                  const std::function<void(size_t)>& work);

}  // namespace inference::ml
