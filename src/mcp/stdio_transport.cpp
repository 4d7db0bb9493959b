#include "mcp/stdio_transport.hpp"

#include <mutex>
#include <string>

namespace inference::mcp {

void serve_stdio(std::shared_ptr<const ServerDefinition> server, std::FILE* in, std::FILE* out) {
  std::mutex write_mutex;
  // Replies come from call threads too: one writer at a time, one line per message.
  Outbound write = [&](const json& message) {
    if (message.is_null()) return;  // a cancelled call: nothing to say
    std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace);
    line += '\n';
    std::lock_guard lock(write_mutex);
    std::fwrite(line.data(), 1, line.size(), out);
    std::fflush(out);
  };
  {
    Session session(std::move(server));
    std::string line;
    bool oversized = false;
    // Byte by byte (getc is buffered): a NUL or a huge line cannot confuse the framing, and a
    // line over the limit is dropped as it streams in, so memory stays bounded.
    for (int c = std::getc(in); c != EOF; c = std::getc(in)) {
      if (c != '\n') {
        if (oversized) continue;
        line.push_back(static_cast<char>(c));
        if (line.size() > kMaxFrameBytes) {
          oversized = true;
          std::string().swap(line);
        }
        continue;
      }
      if (oversized) {
        write(make_error(nullptr, rpc_error::parse_error,
                         "line longer than " + std::to_string(kMaxFrameBytes) + " bytes"));
        oversized = false;
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) session.receive(line, write);
      line.clear();
    }
    if (!line.empty() && !oversized) session.receive(line, write);  // last line without '\n'
    // End of input: the client is gone or closing; stop what still runs.
    session.cancel_all();
    session.wait_idle();
  }
}

}  // namespace inference::mcp
