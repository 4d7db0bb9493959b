// infer — command-line front end of the inference library.
#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli/command.hpp"
#include "inference/error.hpp"
#include "inference/log.hpp"
#include "inference/version.hpp"

namespace {

const char* level_name(inference::LogLevel level) {
  switch (level) {
    case inference::LogLevel::debug:
      return "debug";
    case inference::LogLevel::info:
      return "info";
    case inference::LogLevel::warning:
      return "warning";
    case inference::LogLevel::error:
      return "error";
  }
  return "log";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace inference;
  CLI::App app{"infer — local LLM inference: run, chat, inspect and benchmark models", "infer"};
  app.set_version_flag("--version", std::string("infer ") + std::string(version()));
  app.require_subcommand(1);
  app.fallthrough();
  auto& globals = cli::global_options();
  app.add_flag("-v,--verbose", globals.verbose, "Log library diagnostics to stderr");

  for (const auto& setup : cli::registered_commands()) setup(app);

  app.parse_complete_callback([&] {
    if (globals.verbose) {
      set_log_level(LogLevel::debug);
      set_log_callback([](LogLevel level, std::string_view message) {
        std::fprintf(stderr, "[%s] %.*s\n", level_name(level), static_cast<int>(message.size()),
                     message.data());
      });
    } else {
      set_log_level(LogLevel::warning);
      set_log_callback([](LogLevel level, std::string_view message) {
        std::fprintf(stderr, "infer: %s: %.*s\n", level_name(level),
                     static_cast<int>(message.size()), message.data());
      });
    }
  });

  // llama-server's `-np N` (infer serve): CLI11 allows only one letter after a single dash.
  static char kParallel[] = "--parallel";
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "-np") argv[i] = kParallel;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one clear line and a pointer to --help; exit code 2.
    std::cerr << "infer: " << e.what() << "\n";
    std::cerr << "Run 'infer --help' (or 'infer COMMAND --help') for usage.\n";
    return cli::kUsage;
  } catch (const cli::ExitRequest& request) {
    if (!request.message.empty()) std::cerr << "infer: " << request.message << "\n";
    return request.code;
  } catch (const Error& e) {
    std::cerr << "infer: error: " << e.what() << "\n";
    return cli::kFailure;
  } catch (const std::exception& e) {
    std::cerr << "infer: error: " << e.what() << "\n";
    return cli::kFailure;
  }
  return cli::kOk;
}
