// The smallest program using the llama4.cpp library: load a model folder, open a session, and
// stream the answer to one chat message.
//
//   llama4_example_simple MODEL_DIR "Your message"
#include <llama4/llama4.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR MESSAGE [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  try {
    const auto model = llama4::api::Model::load(argv[1]);
    llama4::api::Session session(model);
    llama4::api::GenerateParams params;
    if (argc > 3) params.max_tokens = std::atoi(argv[3]);
    params.sampling.temperature = 0.0f;  // greedy: the same answer every run
    const auto completion = session.chat(argv[2], params, [](std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::printf("\n");
    std::fprintf(stderr, "[%s] %lld tokens, %.1f tok/s%s\n", completion.stop_reason.c_str(),
                 static_cast<long long>(completion.timings.generated_tokens),
                 completion.timings.generation_tokens_per_second,
                 model->is_demo() ? " (demo model: random weights)" : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
