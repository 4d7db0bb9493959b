// ml/fingerprint.hpp — a content hash that tells whether a resumed run still has the same
// input and configuration (not a security hash: FNV-1a 64, hex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace inference::ml {

class Fingerprint {
 public:
  Fingerprint& add(std::string_view bytes);
  /// Adds a file's bytes; throws inference::Error(not_found) when it cannot be read.
  Fingerprint& add_file(const std::filesystem::path& path);
  std::string hex() const;

 private:
  uint64_t h_ = 1469598103934665603ull;
};

}  // namespace inference::ml
