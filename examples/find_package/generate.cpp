// examples/find_package/generate.cpp — a program built against the installed package
// (find_package(inference)): lists the linked backends, then, given a model, greedily generates
// a few tokens from a prompt.
//   generate                      # prints the backends, e.g. "native"
//   generate MODEL.gguf "Hello"   # prints the continuation
#include <inference/inference.hpp>
#include <iostream>

int main(int argc, char** argv) {
  try {
    for (const std::string& name : inference::list_backends())
      std::cout << "backend: " << name << "\n";
    if (argc < 3) return 0;
    auto model = inference::load_model(argv[1], {.context_length = 256});
    auto stream = model->generate(inference::Context::background(), argv[2],
                                  {.max_tokens = 8, .temperature = 0.0f});
    std::cout << "text: ";
    for (const inference::Token& token : stream) std::cout << token.text;
    std::cout << "\n";
    if (stream.err()) {
      std::cerr << "generation stopped: " << stream.err().to_string() << "\n";
      return 1;
    }
  } catch (const inference::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
