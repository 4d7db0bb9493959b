#include "server/server_state.hpp"

#include <random>

namespace inference::server {

namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

}  // namespace

ServerState::ServerState(ServerOptions opts)
    : options(std::move(opts)),
      pool(std::make_shared<SlotPool>(options.parallel, options.max_queue)),
      created(unix_now()) {}

TextModel& ServerState::require_model() const {
  if (draining.load()) throw ApiError(503, "the server is shutting down");
  if (!ready.load() || !model) throw ApiError(503, "Loading model");
  return *model;
}

ParseLimits ServerState::limits() const {
  ParseLimits l;
  l.max_n = options.max_n;
  l.vocab_size = info.vocab_size;
  l.adapter_scales = adapter_scales();
  return l;
}

std::vector<float> ServerState::adapter_scales() const {
  std::lock_guard lock(adapter_mu_);
  return adapter_scales_;
}

void ServerState::set_adapter_scales(std::vector<float> scales) {
  std::lock_guard lock(adapter_mu_);
  adapter_scales_ = std::move(scales);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id(size_t length) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string id(length, 'a');
  for (char& c : id) c = kAlphabet[pick(rng())];
  return id;
}

uint64_t random_seed() {
  return rng()();
}

}  // namespace inference::server
