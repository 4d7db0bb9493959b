#include "ml/run_store.hpp"

#include <sqlite3.h>

#include "inference/error.hpp"

namespace inference::ml {
namespace {

sqlite3* as_db(void* p) {
  return static_cast<sqlite3*>(p);
}

}  // namespace

void RunStore::exec(const char* sql) const {
  char* message = nullptr;
  if (sqlite3_exec(as_db(db_), sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : "unknown error";
    sqlite3_free(message);
    throw Error(ErrorCode::backend, "run database " + path_.string() + ": " + why);
  }
}

RunStore::RunStore(const std::filesystem::path& dir, const std::string& kind,
                   const std::string& fingerprint, bool restart) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::invalid_argument, "cannot create run directory " + dir.string());
  path_ = dir / "run.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(ErrorCode::invalid_argument, "cannot open " + path_.string() + ": " + why);
  }
  db_ = db;
  try {
    sqlite3_busy_timeout(db, 5000);
    // WAL + synchronous=NORMAL: a committed row survives the process being killed at any point
    // (only a power loss may drop the last commits), and commits stay cheap.
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec(
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS items(idx INTEGER PRIMARY KEY, result TEXT NOT NULL);");
    const auto stored_kind = get_meta("kind");
    const auto stored_fp = get_meta("fingerprint");
    if (stored_kind && (*stored_kind != kind || stored_fp != fingerprint)) {
      if (!restart) {
        const std::string what = *stored_kind != kind
                                     ? "a '" + *stored_kind + "' run, not '" + kind + "'"
                                     : "made with a different input or configuration";
        throw Error(ErrorCode::invalid_argument,
                    "run directory " + dir.string() + " holds " + what +
                        "; use --restart to discard it and start over, or another --run DIR");
      }
    }
    if (restart || !stored_kind || *stored_kind != kind || stored_fp != fingerprint) {
      exec("BEGIN; DELETE FROM items; DELETE FROM meta; COMMIT;");
      set_meta("kind", kind);
      set_meta("fingerprint", fingerprint);
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO items(idx, result) VALUES(?, ?)", -1, &stmt,
                           nullptr) != SQLITE_OK)
      throw Error(ErrorCode::backend, std::string("run database: ") + sqlite3_errmsg(db));
    insert_ = stmt;
  } catch (...) {
    sqlite3_close(db);
    db_ = nullptr;
    throw;
  }
}

RunStore::~RunStore() {
  sqlite3_finalize(static_cast<sqlite3_stmt*>(insert_));
  sqlite3_close(as_db(db_));
}

std::optional<std::string> RunStore::get_meta(const std::string& key) const {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(as_db(db_), "SELECT value FROM meta WHERE key = ?", -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  std::optional<std::string> value;
  if (sqlite3_step(stmt) == SQLITE_ROW)
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return value;
}

void RunStore::set_meta(const std::string& key, const std::string& value) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(as_db(db_), "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &stmt,
                     nullptr);
  sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE)
    throw Error(ErrorCode::backend, std::string("run database: ") + sqlite3_errmsg(as_db(db_)));
}

std::string RunStore::meta_once(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  if (auto v = get_meta(key)) return *v;
  set_meta(key, value);
  return value;
}

std::map<int64_t, std::string> RunStore::load() const {
  std::lock_guard lock(mutex_);
  std::map<int64_t, std::string> out;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(as_db(db_), "SELECT idx, result FROM items ORDER BY idx", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    out.emplace(sqlite3_column_int64(stmt, 0), text ? text : "");
  }
  sqlite3_finalize(stmt);
  return out;
}

void RunStore::put(int64_t index, const std::string& result) {
  std::lock_guard lock(mutex_);
  auto* stmt = static_cast<sqlite3_stmt*>(insert_);
  sqlite3_reset(stmt);
  sqlite3_bind_int64(stmt, 1, index);
  sqlite3_bind_text(stmt, 2, result.data(), static_cast<int>(result.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE)
    throw Error(ErrorCode::backend, std::string("run database: ") + sqlite3_errmsg(as_db(db_)));
}

size_t RunStore::count() const {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(as_db(db_), "SELECT COUNT(*) FROM items", -1, &stmt, nullptr);
  size_t n = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = static_cast<size_t>(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  return n;
}

}  // namespace inference::ml
