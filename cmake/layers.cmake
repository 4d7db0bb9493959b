# The layers of the project: one row per module saying which directories it owns, which modules
# it may use (DEPS: it includes their public headers and links their libraries), which it links
# without including (LINK_ONLY: self-registering backends, a contract function implemented
# elsewhere), which third-party libraries it may include and link (EXTERNAL), and which of its
# headers other modules may include (PUBLIC, include paths as written in #include, * wildcards;
# every other header is private to the module). STD_ONLY directories may include the standard
# library alone.
#
# cmake/layer_rules.cmake enforces the table at configure time, when the build's sources change
# (target inference_layers_check, a dependency of every module) and as the ctest
# `layers_respected`. docs/architecture.md shows the table as the module map.
#
# Order: lower layers first; a module may depend only on modules above it in this file.

# inference_layer(NAME DIRS dir... [TARGET t] [DEPS m...] [LINK_ONLY m...] [EXTERNAL pkg...]
#                 [PUBLIC pattern...] [STD_ONLY dir...])
macro(inference_layer name)
  cmake_parse_arguments(_LAYER "" "TARGET" "DIRS;DEPS;LINK_ONLY;EXTERNAL;PUBLIC;STD_ONLY" ${ARGN})
  list(APPEND INFERENCE_LAYERS ${name})
  if(NOT _LAYER_TARGET)
    set(_LAYER_TARGET inference_${name})
  endif()
  foreach(_field DIRS TARGET DEPS LINK_ONLY EXTERNAL PUBLIC STD_ONLY)
    set(INFERENCE_LAYER_${name}_${_field} ${_LAYER_${_field}})
  endforeach()
endmacro()

# Third-party headers and the package each belongs to (EXTERNAL names), and the link targets that
# provide each package.
set(INFERENCE_EXTERNAL_HEADERS
    "nlohmann/.*=nlohmann_json" "httplib\\.h=cpp-httplib" "sqlite3\\.h=sqlite3"
    "pcre2\\.h=pcre2" "CLI/.*=CLI11" "gtest/.*=GTest" "gmock/.*=GTest")
set(INFERENCE_EXTERNAL_TARGETS
    "nlohmann_json::nlohmann_json=nlohmann_json" "PkgConfig::.*HTTPLIB=cpp-httplib"
    "PkgConfig::.*SQLITE3=sqlite3" "PkgConfig::PCRE2=pcre2" "CLI11::CLI11=CLI11")

set(INFERENCE_LAYERS)

# The contract (include/inference, standard library only) and its implementation.
inference_layer(core DIRS include/inference src/core STD_ONLY include/inference
  EXTERNAL nlohmann_json PUBLIC inference/*.hpp core/json_type.hpp)
inference_layer(arch DIRS src/arch STD_ONLY src/arch
  PUBLIC arch/*.hpp)
inference_layer(web_assets DIRS web
  PUBLIC web/web_assets.hpp)
inference_layer(formats DIRS src/formats DEPS core arch EXTERNAL nlohmann_json
  PUBLIC formats/display.hpp formats/parallel_slots.hpp formats/ggml_types.hpp formats/gguf.hpp
         formats/hf_config.hpp formats/memory_estimate.hpp formats/model_summary.hpp
         formats/safetensors.hpp)
inference_layer(tokenizer DIRS src/tokenizer DEPS core formats EXTERNAL pcre2 nlohmann_json
  PUBLIC tokenizer/tokenizer.hpp)
inference_layer(chat DIRS src/chat DEPS core arch EXTERNAL nlohmann_json
  PUBLIC chat/chat_template.hpp chat/message_json.hpp)
inference_layer(grammar DIRS src/grammar DEPS core EXTERNAL nlohmann_json
  PUBLIC grammar/compile.hpp grammar/grammar.hpp grammar/token_masker.hpp grammar/token_trie.hpp
         grammar/tool_calls.hpp)
inference_layer(kernels_cpu DIRS src/kernels/cpu DEPS core formats
  PUBLIC kernels/cpu/attention_batch.hpp kernels/cpu/quantize_activation.hpp kernels/cpu/attention_decode.hpp kernels/cpu/blocks.hpp kernels/cpu/fp16.hpp
         kernels/cpu/matmul.hpp kernels/cpu/mlx_affine8.hpp kernels/cpu/quantize.hpp
         kernels/cpu/resident_matrices.hpp
         kernels/cpu/thread_pool.hpp kernels/cpu/ops/activations.hpp kernels/cpu/ops/attention.hpp
         kernels/cpu/ops/rms_norm.hpp kernels/cpu/ops/rope.hpp kernels/cpu/ops/softmax.hpp
         kernels/cpu/ops/fast_exp.hpp)
inference_layer(engine DIRS src/engine DEPS core arch formats tokenizer kernels_cpu
  EXTERNAL nlohmann_json
  PUBLIC engine/engine.hpp engine/hparams.hpp engine/model_files.hpp engine/tensor_source.hpp
         engine/weights.hpp engine/lora/lora_adapter.hpp)
inference_layer(generation DIRS src/engine/generation DEPS core engine tokenizer grammar
  PUBLIC engine/generation/batch_scheduler.hpp engine/generation/logprobs.hpp
         engine/generation/prefill.hpp engine/generation/rng.hpp engine/generation/sampler.hpp
         engine/generation/token_constraint.hpp)
inference_layer(train DIRS src/train DEPS core arch formats kernels_cpu engine
  EXTERNAL nlohmann_json
  PUBLIC train/train_run.hpp train/lora_checkpoint.hpp train/adamw.hpp train/lora_trainer.hpp train/train_bench.hpp)
inference_layer(backend_native DIRS src/backends/native
  DEPS core generation engine chat tokenizer train EXTERNAL nlohmann_json)
inference_layer(net DIRS src/net DEPS core EXTERNAL cpp-httplib
  PUBLIC net/*.hpp)
inference_layer(remote DIRS src/backends/remote DEPS core net EXTERNAL nlohmann_json
  PUBLIC backends/remote/*.hpp)
inference_layer(backend_http DIRS src/backends/http DEPS core remote EXTERNAL nlohmann_json)
inference_layer(backend_llama_server DIRS src/backends/llama_server DEPS core remote formats
  EXTERNAL nlohmann_json)
inference_layer(convert DIRS src/convert DEPS core arch formats kernels_cpu engine
  PUBLIC convert/*.hpp)
inference_layer(testing DIRS src/testing DEPS core arch formats kernels_cpu generation convert
  PUBLIC testing/generate_model.hpp testing/generate_lora.hpp testing/model_shapes.hpp testing/random_weights.hpp
         testing/synthetic_vocab.hpp)
inference_layer(perf DIRS src/perf DEPS core formats kernels_cpu generation testing
  PUBLIC perf/*.hpp)
inference_layer(ml DIRS src/ml DEPS core EXTERNAL nlohmann_json pcre2 sqlite3
  PUBLIC ml/classifier.hpp ml/fingerprint.hpp ml/label_match.hpp ml/model_ref.hpp
         ml/probe_runner.hpp ml/progress.hpp ml/responses.hpp ml/rubrics.hpp ml/scorer.hpp
         ml/summary.hpp)
inference_layer(server DIRS src/server DEPS core grammar EXTERNAL nlohmann_json cpp-httplib
  PUBLIC server/server.hpp server/server_options.hpp)
inference_layer(loadgen DIRS src/loadgen DEPS core EXTERNAL nlohmann_json cpp-httplib
  PUBLIC loadgen/serve_load.hpp)
# discover() (inference/discovery.hpp) is implemented by formats: the MCP server links it.
inference_layer(mcp DIRS src/mcp DEPS core ml LINK_ONLY formats
  EXTERNAL nlohmann_json cpp-httplib sqlite3
  PUBLIC mcp/http_transport.hpp mcp/options.hpp mcp/server.hpp mcp/stdio_transport.hpp)
# The program links every backend: each registers itself.
inference_layer(cli DIRS src/cli TARGET infer
  DEPS core formats tokenizer chat grammar kernels_cpu engine generation convert testing perf
       train ml server loadgen mcp web_assets
  LINK_ONLY backend_native backend_http backend_llama_server
  EXTERNAL nlohmann_json CLI11)
