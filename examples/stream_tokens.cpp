// examples/stream_tokens.cpp — load a model with whatever backend is linked and available, and
// stream a reply to stdout. Build: part of the project (target example_stream_tokens).
//   example_stream_tokens MODEL.gguf "Why is the sky blue?"
#include <inference/inference.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " MODEL PROMPT\n";
    return 2;
  }
  try {
    auto model = inference::load_model(argv[1], {.context_length = 4096});
    auto ctx = inference::Context::background().with_timeout(std::chrono::minutes(5));
    std::vector<inference::Message> messages = {{"user", argv[2]}};
    auto stream = model->chat(ctx, messages, {.max_tokens = 256, .temperature = 0.7f, .seed = 42});
    for (const inference::Token& token : stream) std::cout << token.text << std::flush;
    std::cout << "\n";
    if (stream.err()) {
      std::cerr << "generation stopped: " << stream.err().to_string() << "\n";
      return 1;
    }
    auto m = model->metrics();
    std::cerr << m.generated_tokens << " tokens, " << m.decode_tokens_per_second << " tok/s\n";
  } catch (const inference::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
