// The normal build's driver for a fuzz target: instead of libFuzzer, main()
// feeds LLVMFuzzerTestOneInput every file it is given (folders: each regular
// file in them, in name order), so the ctest suite replays past findings with
// g++ and the sanitizer builds. A broken invariant traps, failing the test.
//
//   TARGET [--prefix NAME-] [--allow-empty] PATH...
//
// --prefix keeps only files whose names start with NAME- (the config targets
// share one folder); without --allow-empty, replaying nothing is a failure,
// so a moved folder cannot turn the test into one that always passes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_of(const fs::path& path, std::string_view prefix) {
  std::vector<fs::path> out;
  if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().filename().string().starts_with(prefix)) {
        out.push_back(entry.path());
      }
    }
    std::sort(out.begin(), out.end());
  } else {
    out.push_back(path);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix;
  bool allow_empty = false;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--prefix" && i + 1 < argc) {
      prefix = argv[++i];
    } else if (arg == "--allow-empty") {
      allow_empty = true;
    } else {
      if (!fs::exists(arg)) {
        std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
        return 2;
      }
      const auto found = inputs_of(arg, prefix);
      inputs.insert(inputs.end(), found.begin(), found.end());
    }
  }
  if (inputs.empty() && !allow_empty) {
    std::fprintf(stderr, "no inputs to replay (usage: %s [--prefix P] [--allow-empty] PATH...)\n",
                 argc > 0 ? argv[0] : "replay");
    return 2;
  }
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot be read\n", path.c_str());
      return 2;
    }
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    std::fprintf(stderr, "Running: %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "replayed %zu inputs\n", inputs.size());
  return 0;
}
