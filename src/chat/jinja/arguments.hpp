// chat/jinja/arguments.hpp — binds a call's positional and keyword arguments to a Python-style
// parameter list, with Python's TypeErrors for extra, unknown or repeated arguments.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/value.hpp"
#include "inference/error.hpp"

namespace inference::chat::jinja {

class Params {
 public:
  Params(std::string_view function, const Arguments& args,
         std::initializer_list<std::string_view> names)
      : bound_(names.size(), nullptr) {
    std::vector<std::string_view> list(names);
    if (args.positional.size() > list.size()) {
      throw Error(ErrorCode::invalid_argument,
                  std::string(function) + "() takes at most " + std::to_string(list.size()) +
                      " argument(s) (" + std::to_string(args.positional.size()) + " given)");
    }
    for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = &args.positional[i];
    for (const auto& [key, value] : args.keyword) {
      size_t i = 0;
      while (i < list.size() && list[i] != key) ++i;
      if (i == list.size()) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(function) + "() got an unexpected keyword argument '" + key + "'");
      }
      if (bound_[i]) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(function) + "() got multiple values for argument '" + key + "'");
      }
      bound_[i] = &value;
    }
  }

  /// The i-th parameter, or null when not passed.
  const Value* get(size_t i) const { return bound_[i]; }
  Value get(size_t i, Value fallback) const { return bound_[i] ? *bound_[i] : fallback; }

 private:
  std::vector<const Value*> bound_;
};

}  // namespace inference::chat::jinja
