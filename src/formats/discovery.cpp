// formats/discovery.cpp — inference::discover(): models under a directory, from headers only.
//
// Walks the tree itself (rather than recursive_directory_iterator) so that symlinked
// directories are followed once each — a link back up the tree is visited no more than once —
// and so that an unreadable entry becomes a reported problem instead of ending the walk.
#include "inference/discovery.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "formats/model_summary.hpp"
#include "inference/error.hpp"

namespace inference {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 32;

class Walker {
 public:
  explicit Walker(Discovery& out) : out_(out) {}

  void walk(const fs::path& dir, int depth) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      problem(dir, "cannot read");
      return;
    }
    if (!visited_.insert({st.st_dev, st.st_ino}).second) return;  // seen: a symlink loop
    if (depth > kMaxDepth) {
      problem(dir, "deeper than " + std::to_string(kMaxDepth) + " levels; not searched");
      return;
    }
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      problem(dir, "cannot list: " + ec.message());
      return;
    }
    std::vector<fs::path> children;
    for (fs::directory_iterator end; it != end; it.increment(ec)) {
      if (ec) {
        problem(dir, "listing stopped: " + ec.message());
        break;
      }
      children.push_back(it->path());
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) visit(child, depth);
  }

 private:
  void visit(const fs::path& path, int depth) {
    std::error_code ec;
    auto status = fs::status(path, ec);  // follows symlinks
    if (ec || !fs::exists(status)) {
      if (path.extension() == ".gguf") problem(path, "cannot read (dangling link?)");
      return;
    }
    if (fs::is_directory(status)) {
      if (formats::looks_like_model(path)) {
        add(path);
      } else {
        walk(path, depth + 1);
      }
    } else if (fs::is_regular_file(status) && path.extension() == ".gguf") {
      add(path);
    }
  }

  void add(const fs::path& path) {
    try {
      formats::ModelSummary s = formats::summarize_model(path);
      out_.models.push_back({.path = path,
                             .format = s.format,
                             .architecture = s.architecture,
                             .name = s.name,
                             .quantization = s.file_type,
                             .size_bytes = s.size_bytes,
                             .context_length = s.context_length,
                             .parameter_count = s.parameter_count});
    } catch (const Error& e) {
      // The message already names the file.
      out_.problems.push_back(e.what());
    } catch (const std::exception& e) {
      problem(path, e.what());
    }
  }

  void problem(const fs::path& path, const std::string& why) {
    out_.problems.push_back(path.string() + ": " + why);
  }

  Discovery& out_;
  std::set<std::pair<dev_t, ino_t>> visited_;
};

}  // namespace

Discovery discover(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error(ErrorCode::not_found, dir.string() + ": does not exist");
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::invalid_argument, dir.string() + ": is not a directory");
  }
  Discovery out;
  Walker(out).walk(dir, 0);
  std::sort(out.models.begin(), out.models.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace inference
