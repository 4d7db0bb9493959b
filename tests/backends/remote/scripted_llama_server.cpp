// A stand-in for llama-server in the llama_server backend's fault tests: takes llama-server's
// command line, answers /health, /props (with the argv it got) and /completion with a slow,
// scripted token stream (ids 0, 1, 2, … with text "t0", "t1", …), so a test can kill it
// mid-request. `--die-after-health` makes it exit right after the first /health.
#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  using nlohmann::json;
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--host") host = args[i + 1];
    if (args[i] == "--port") port = std::stoi(args[i + 1]);
  }
  std::fprintf(stderr, "scripted llama-server starting on port %d\n", port);
  httplib::Server server;
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Get("/props", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(json({{"default_generation_settings", {{"n_ctx", 96}}}, {"args", args}}).dump(),
                    "application/json");
  });
  server.Post("/completion", [](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body);
    int n = body.value("n_predict", 16);
    if (n < 0) n = 1000;
    if (!body.value("stream", false)) {
      json top = json::array({json{{"id", 0}, {"token", "t0"}, {"logprob", -0.1}}});
      json prob = {{"id", 0}, {"token", "t0"}, {"logprob", -0.1}, {"top_logprobs", top}};
      json out = {{"content", "t0"},
                  {"tokens", json::array({0})},
                  {"stop", true},
                  {"completion_probabilities", json::array({prob})}};
      res.set_content(out.dump(), "application/json");
      return;
    }
    res.set_chunked_content_provider("text/event-stream", [n](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < n; ++i) {
        std::string e =
            "data: " +
            json({{"content", "t" + std::to_string(i)}, {"tokens", {i}}, {"stop", false}}).dump() +
            "\n\n";
        if (!sink.write(e.data(), e.size())) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::string last = "data: " +
                         json({{"content", ""},
                               {"stop", true},
                               {"stop_type", "limit"},
                               {"timings",
                                {{"prompt_n", 3},
                                 {"prompt_ms", 1.5},
                                 {"predicted_n", n},
                                 {"predicted_ms", 20.0 * n}}}})
                             .dump() +
                         "\n\n";
      sink.write(last.data(), last.size());
      sink.done();
      return true;
    });
  });
  if (!server.listen(host, port)) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 2;
  }
  return 0;
}
