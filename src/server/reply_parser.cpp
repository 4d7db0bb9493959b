#include "server/reply_parser.hpp"

namespace inference::server {

ReplyParser::ReplyParser(const ReplySyntax& syntax) {
  if (!syntax.parse_calls && !syntax.reasoning) return;
  parser_.emplace(syntax.format, syntax.parse_calls);
  // The template wrote "<think>" itself: the reply starts inside the block.
  if (syntax.starts_in_reasoning) parser_->push("<think>");
}

std::vector<ReplyEvent> ReplyParser::push(std::string_view text) {
  if (!parser_) {
    if (text.empty()) return {};
    return {ReplyEvent{ReplyEvent::Kind::content, 0, std::string(text), "", ""}};
  }
  return parser_->push(text);
}

std::vector<ReplyEvent> ReplyParser::finish() {
  if (!parser_) return {};
  return parser_->finish();
}

}  // namespace inference::server
