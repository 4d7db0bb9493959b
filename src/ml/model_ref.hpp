// ml/model_ref.hpp — loading the MODEL argument of score/probe/classify: a file or directory
// for a local backend, or an http(s) URL for a remote one (the http backend), always through
// inference::load_model so any linked backend serves it.
#pragma once

#include <memory>
#include <string>

#include "inference/text_model.hpp"
#include "inference/types.hpp"

namespace inference::ml {

/// Whether `ref` is an http:// or https:// URL.
bool is_url(const std::string& ref);

/// Loads `ref` with `config`. A URL gets backend "http" unless config.backend names another,
/// and is added to config.endpoints. Throws inference::Error as load_model does.
std::unique_ptr<TextModel> load_model_ref(const std::string& ref, LoadConfig config);

}  // namespace inference::ml
