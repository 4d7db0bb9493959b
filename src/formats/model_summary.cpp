// formats/model_summary.cpp — dispatch to the per-format summaries; display helpers.
#include "formats/model_summary.hpp"

#include <cstdio>

#include "formats/model_summary_detail.hpp"
#include "inference/error.hpp"

namespace inference::formats {

namespace fs = std::filesystem;

namespace {

bool has_extension(const fs::path& path, std::string_view ext) {
  return path.extension() == ext;
}

bool dir_has_safetensors(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (has_extension(it->path(), ".safetensors")) return true;
  }
  return false;
}

}  // namespace

bool looks_like_model(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return fs::exists(path / "config.json", ec) && dir_has_safetensors(path);
  }
  return has_extension(path, ".gguf");
}

ModelSummary summarize_model(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw Error(ErrorCode::not_found, path.string() + ": no such file or directory");
  }
  if (fs::is_directory(status)) {
    if (!dir_has_safetensors(path)) {
      throw Error(ErrorCode::unsupported, path.string() +
                                              ": directory holds no .safetensors model (expected "
                                              "config.json and *.safetensors)");
    }
    return summarize_safetensors(path);
  }
  if (has_extension(path, ".safetensors")) return summarize_safetensors(path);
  // Anything else is tried as GGUF: the magic decides, and the error says so if it is not.
  return summarize_gguf(path);
}

std::string quote_for_display(std::string_view text, size_t limit) {
  std::string out = "\"";
  size_t used = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (used >= limit && (c & 0xC0) != 0x80) {  // cut only at a character boundary
      out += "...";
      break;
    }
    ++used;
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace inference::formats
