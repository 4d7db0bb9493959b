#include "ml/fingerprint.hpp"

#include <cstdio>
#include <fstream>

#include "inference/error.hpp"

namespace inference::ml {

Fingerprint& Fingerprint::add(std::string_view bytes) {
  for (unsigned char c : bytes) {
    h_ ^= c;
    h_ *= 1099511628211ull;
  }
  // A separator so ("ab","c") and ("a","bc") differ.
  h_ ^= 0xff;
  h_ *= 1099511628211ull;
  return *this;
}

Fingerprint& Fingerprint::add_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + path.string());
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < n; ++i) {
      h_ ^= static_cast<unsigned char>(buf[i]);
      h_ *= 1099511628211ull;
    }
  }
  return add("");
}

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

}  // namespace inference::ml
