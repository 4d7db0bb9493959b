// generation/shared_engine.hpp — one loaded Engine shared by a model and its open streams.
//
// The Engine is not thread-safe, so every use goes through `mutex`. Streams outlive calls
// (a TokenStream is pulled long after generate() returned) and may outlive close(): they hold
// the state by shared_ptr and find `engine` null once the model was closed. Sequence slots of
// the KV cache are handed out as SlotLeases; a lease returns its slot when destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "inference/error.hpp"
#include "inference/types.hpp"

namespace inference::generation {

struct SharedEngine {
  explicit SharedEngine(std::unique_ptr<engine::Engine> loaded);

  /// The engine, or Error(unavailable) once closed. Call with `mutex` held.
  engine::Engine& open_engine() const;
  /// Records a finished generation (metrics, status, peak memory). Call with `mutex` held.
  void record(const GenerateMetrics& metrics, const Status& status);

  // Recursive: a SlotLease or Generator may be destroyed (and take the lock to return its
  // slot) on a path that already holds it, e.g. when a constructor throws during generate().
  mutable std::recursive_mutex mutex;
  std::unique_ptr<engine::Engine> engine;  ///< null after close()
  std::vector<bool> slot_busy;             ///< one per engine sequence
  GenerateMetrics last_metrics;
  Status last_status;
  uint64_t peak_memory = 0;
};

/// Exclusive use of one sequence slot. Move-only; returns the slot when destroyed.
class SlotLease {
 public:
  SlotLease() = default;
  SlotLease(SlotLease&& other) noexcept;
  SlotLease& operator=(SlotLease&& other) noexcept;
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease();

  /// A free slot, preferring the one whose cached tokens share the longest prefix with
  /// `prompt` (prefix reuse across chat turns); nullopt when all are busy. Call with the
  /// mutex held.
  static std::optional<SlotLease> acquire(const std::shared_ptr<SharedEngine>& shared,
                                          std::span<const int32_t> prompt);

  int32_t seq() const noexcept { return seq_; }
  bool held() const noexcept { return shared_ != nullptr; }
  /// Returns the slot now. Call with the mutex held (the destructor takes it itself).
  void release_locked() noexcept;

 private:
  SlotLease(std::shared_ptr<SharedEngine> shared, int32_t seq)
      : shared_(std::move(shared)), seq_(seq) {}
  std::shared_ptr<SharedEngine> shared_;
  int32_t seq_ = -1;
};

/// Length of the common prefix of two token sequences.
size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace inference::generation
