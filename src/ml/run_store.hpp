// ml/run_store.hpp — a resumable run: every finished item is committed to SQLite (WAL) the
// moment it finishes, so a crash, kill -9 or Ctrl-C loses at most the items in flight, and the
// same command run again skips what is already stored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace inference::ml {

class RunStore {
 public:
  /// Opens (or creates) DIR/run.sqlite for a run of `kind` ("score", "probe", "classify")
  /// whose input and configuration hash to `fingerprint`. When the stored run has another kind
  /// or fingerprint: with `restart` its items are deleted and it starts over, otherwise
  /// Error(invalid_argument) says what changed and to use --restart.
  RunStore(const std::filesystem::path& dir, const std::string& kind,
           const std::string& fingerprint, bool restart);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  /// Stored results by item index.
  std::map<int64_t, std::string> load() const;
  /// Commits one finished item (its own transaction). Thread-safe. A second put of the same
  /// index keeps the first (an item is never done twice).
  void put(int64_t index, const std::string& result);
  /// A value fixed when the run was created (e.g. its start time), set once: returns the stored
  /// value if there is one, else stores and returns `value`.
  std::string meta_once(const std::string& key, const std::string& value);
  size_t count() const;

 private:
  void exec(const char* sql) const;
  std::optional<std::string> get_meta(const std::string& key) const;
  void set_meta(const std::string& key, const std::string& value);
  void* db_ = nullptr;      // sqlite3*
  void* insert_ = nullptr;  // prepared INSERT
  mutable std::mutex mutex_;
  std::filesystem::path path_;
};

}  // namespace inference::ml
