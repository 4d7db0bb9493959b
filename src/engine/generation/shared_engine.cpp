#include "engine/generation/shared_engine.hpp"

#include <algorithm>

namespace inference::generation {

SharedEngine::SharedEngine(std::unique_ptr<engine::Engine> loaded) : engine(std::move(loaded)) {
  if (engine) slot_busy.assign(static_cast<size_t>(std::max(engine->n_sequences(), 1)), false);
}

engine::Engine& SharedEngine::open_engine() const {
  if (!engine) throw Error(ErrorCode::unavailable, "the model was closed");
  return *engine;
}

void SharedEngine::record(const GenerateMetrics& metrics, const Status& status) {
  last_metrics = metrics;
  last_status = status;
  if (engine) {
    const uint64_t now = engine->memory_bytes();
    peak_memory = std::max(peak_memory, now);
    last_metrics.active_memory_bytes = now;
  }
  last_metrics.peak_memory_bytes = peak_memory;
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

std::optional<SlotLease> SlotLease::acquire(const std::shared_ptr<SharedEngine>& shared,
                                            std::span<const int32_t> prompt) {
  const auto& engine = shared->open_engine();
  int32_t best = -1;
  size_t best_prefix = 0;
  size_t best_cached = 0;
  for (size_t seq = 0; seq < shared->slot_busy.size(); ++seq) {
    if (shared->slot_busy[seq]) continue;
    const auto cached = engine.sequence_tokens(static_cast<int32_t>(seq));
    const size_t prefix = common_prefix(cached, prompt);
    // Longest reusable prefix first; on a tie, the slot holding least, so that another
    // conversation's cache survives as long as an emptier slot is free.
    if (best < 0 || prefix > best_prefix ||
        (prefix == best_prefix && cached.size() < best_cached)) {
      best = static_cast<int32_t>(seq);
      best_prefix = prefix;
      best_cached = cached.size();
    }
  }
  if (best < 0) return std::nullopt;
  shared->slot_busy[static_cast<size_t>(best)] = true;
  return SlotLease(shared, best);
}

SlotLease::SlotLease(SlotLease&& other) noexcept
    : shared_(std::move(other.shared_)), seq_(other.seq_) {
  other.shared_.reset();
}

SlotLease& SlotLease::operator=(SlotLease&& other) noexcept {
  if (this != &other) {
    if (shared_) {
      std::lock_guard lock(shared_->mutex);
      release_locked();
    }
    shared_ = std::move(other.shared_);
    seq_ = other.seq_;
    other.shared_.reset();
  }
  return *this;
}

SlotLease::~SlotLease() {
  if (!shared_) return;
  std::lock_guard lock(shared_->mutex);
  release_locked();
}

void SlotLease::release_locked() noexcept {
  if (!shared_) return;
  if (seq_ >= 0 && static_cast<size_t>(seq_) < shared_->slot_busy.size())
    shared_->slot_busy[static_cast<size_t>(seq_)] = false;
  shared_.reset();
}

}  // namespace inference::generation
