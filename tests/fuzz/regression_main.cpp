// Replays the fuzz target over the checked-in corpus and over a fixed-seed stream of generated
// module output, so every ctest run covers the same inputs. Generated inputs are stitched from
// real fragments (final results, URCs, prompts, length-prefixed receives) and random bytes, which
// reaches far more states than uniform noise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string generate(std::mt19937& rng) {
  static const std::vector<std::string> fragments = {
      "\r\n", "\r", "\n", "OK", "ERROR", "+CME ERROR: 50", "+CMS ERROR: x", "> ", ">", "AT+CSQ\r",
      "+CSQ: 28,0", "RDY", "+QMTSTAT: 0,1", "+QIURC: \"pdpdeact\",1", "+QMTPUBEX: 0,1,0", "ATI\r",
      "+QMTRECV: 0,1,\"t\",5,\"a\r\nb\"\"", "+QMTRECV: 0,0,\"t\",999999,\"", "+QMTRECV: 0,0,\"t\",3,\"",
      "+QIRD: 3", "Quectel", "\"", ",", std::string(1, '\0'), "\x1b", "data",
      // a hostile topic and payload (issue 18)
      "\x01", "\",1,\"", "\",\"", "\",", "\"\r\n", "+QMTPUBEX: 0,2,0",
      "+QMTRECV: 0,9,\"cmd/forged\",4,\"evil\""};
  std::string out;
  const int parts = std::uniform_int_distribution<int>(1, 40)(rng);
  for (int i = 0; i < parts; ++i) {
    if (std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
      const int n = std::uniform_int_distribution<int>(1, 30)(rng);
      for (int j = 0; j < n; ++j)
        out += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    } else {
      out += fragments[std::uniform_int_distribution<std::size_t>(0, fragments.size() - 1)(rng)];
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus;
  long generated = 0;
  unsigned long seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--generated" && i + 1 < argc) {
      generated = std::atol(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoul(argv[++i], nullptr, 10);
    } else {
      corpus = arg;
    }
  }
  std::size_t files = 0;
  if (!corpus.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
      std::ifstream in(entry.path(), std::ios::binary);
      run(std::string(std::istreambuf_iterator<char>(in), {}));
      ++files;
    }
    if (files == 0) {
      std::fprintf(stderr, "no corpus files in %s\n", corpus.c_str());
      return 1;
    }
  }
  std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
  for (long i = 0; i < generated; ++i)
    run(generate(rng));
  std::printf("%zu corpus files and %ld generated inputs (seed %lu): no failure\n", files, generated, seed);
  return 0;
}
