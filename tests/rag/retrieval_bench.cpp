// plinth_rag_retrieval_bench: hybrid retrieval latency over a large collection. Builds a store of N
// synthetic chunks (words drawn from a Zipf-distributed vocabulary, so BM25's postings look like
// text's; unit vectors with a few "topics", so the dense scores are not flat), loads the dense index on
// the device, then times each method over Q queries and prints p50/p99 per query. The query vector
// is given (the encoder's time is measured by plinth search, not here).
//
//   plinth_rag_retrieval_bench [--chunks 100000] [--dim 384] [--queries 200] [--k 10] [--device cpu:0]
//                              [--plugin PATH]... [--storage f16|f32] [--dir DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <unistd.h>
#include <string>
#include <vector>

#include "plinth/rag/retriever.hpp"
#include "plinth/runtime.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int64_t chunks = 100000;
  int64_t dim = 384;
  int queries = 200;
  std::size_t k = 10;
  std::string device = "cpu:0";
  std::vector<std::string> plugins;
  std::string storage = "f16";
  std::string dir;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", s.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (s == "--chunks") a.chunks = std::stoll(next());
    else if (s == "--dim") a.dim = std::stoll(next());
    else if (s == "--queries") a.queries = std::stoi(next());
    else if (s == "--k") a.k = std::stoul(next());
    else if (s == "--device") a.device = next();
    else if (s == "--plugin") a.plugins.push_back(next());
    else if (s == "--storage") a.storage = next();
    else if (s == "--dir") a.dir = next();
    else {
      std::fprintf(stderr, "unknown argument %s (see the comment at the top of retrieval_bench.cpp)\n", s.c_str());
      std::exit(2);
    }
  }
  if (a.chunks < 1 || a.dim < 1 || a.queries < 1 || (a.storage != "f16" && a.storage != "f32")) {
    std::fprintf(stderr, "bad arguments\n");
    std::exit(2);
  }
  return a;
}

struct Corpus {
  std::vector<std::string> vocab;
  std::discrete_distribution<int> word;
  std::vector<std::vector<float>> topics;
};

std::vector<float> unit_near(const std::vector<float>& center, std::mt19937& gen, float spread) {
  std::normal_distribution<float> n(0.0f, spread);
  std::vector<float> v(center.size());
  float norm = 0.0f;
  for (std::size_t d = 0; d < v.size(); ++d) {
    v[d] = center[d] + n(gen);
    norm += v[d] * v[d];
  }
  for (float& x : v) x /= std::sqrt(norm);
  return v;
}

std::string words(Corpus& c, std::mt19937& gen, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + c.vocab[static_cast<std::size_t>(c.word(gen))];
  return s;
}

void report(const char* name, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double p99 = ms[std::min(ms.size() - 1, static_cast<std::size_t>(static_cast<double>(ms.size()) * 0.99))];
  std::printf("| %s | %.2f | %.2f | %.2f |\n", name, p50, p99, ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace plinth;
  const Args args = parse(argc, argv);
  const std::filesystem::path dir =
      args.dir.empty() ? std::filesystem::temp_directory_path() / ("plinth-rag-bench-" + std::to_string(::getpid()))
                       : std::filesystem::path(args.dir);
  std::filesystem::remove_all(dir);

  std::mt19937 gen(42);
  Corpus corpus;
  std::vector<double> weights;
  for (int i = 0; i < 20000; ++i) {
    corpus.vocab.push_back("w" + std::to_string(i));
    weights.push_back(1.0 / (i + 1.0));  // Zipf, s = 1
  }
  corpus.word = std::discrete_distribution<int>(weights.begin(), weights.end());
  std::normal_distribution<float> normal;
  for (int t = 0; t < 64; ++t) {
    std::vector<float> c(static_cast<std::size_t>(args.dim));
    for (float& x : c) x = normal(gen);
    corpus.topics.push_back(unit_near(c, gen, 0.0f));
  }

  RuntimeOptions ro;
  ro.plugin_paths.assign(args.plugins.begin(), args.plugins.end());
  ro.devices = {args.device};
  Runtime runtime(ro);
  Device& device = runtime.device(args.device);

  const auto t0 = Clock::now();
  {
    rag::CollectionStore store = rag::CollectionStore::open(
        dir / "bench.sqlite", {.dim = static_cast<std::size_t>(args.dim), .embedding_model = "synthetic"});
    constexpr int64_t kChunksPerDoc = 50;
    std::uniform_int_distribution<int> topic(0, 63);
    for (int64_t first = 0; first < args.chunks; first += kChunksPerDoc) {
      rag::DocumentInput doc;
      doc.source = "doc" + std::to_string(first / kChunksPerDoc);
      doc.content_hash = doc.source;
      doc.title = doc.source;
      doc.format = "text";
      int64_t at = 0;
      for (int64_t c = first; c < std::min(args.chunks, first + kChunksPerDoc); ++c) {
        rag::ChunkInput in;
        in.text = words(corpus, gen, 120);
        in.heading_path = words(corpus, gen, 4);
        in.begin = at;
        in.end = at + static_cast<int64_t>(in.text.size());
        at = in.end + 2;
        in.tokens = 120;
        in.embedding = unit_near(corpus.topics[static_cast<std::size_t>(topic(gen))], gen, 0.08f);
        doc.chunks.push_back(std::move(in));
      }
      store.put_document(doc);
    }
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto t1 = Clock::now();
  rag::CollectionIndex index(
      "bench",
      rag::CollectionStore::open(dir / "bench.sqlite", {}),
      device, {.storage = args.storage == "f16" ? DType::f16 : DType::f32});
  const double load_s = std::chrono::duration<double>(Clock::now() - t1).count();
  std::printf("%lld chunks of %lld dimensions (%s on %s): store built in %.1f s, dense index loaded in %.1f s\n",
              static_cast<long long>(args.chunks), static_cast<long long>(args.dim), args.storage.c_str(),
              device.id().c_str(), build_s, load_s);

  rag::CollectionIndex* cols[] = {&index};
  std::uniform_int_distribution<int> topic(0, 63);
  std::vector<std::string> qtext;
  std::vector<std::vector<float>> qvec;
  for (int q = 0; q < args.queries; ++q) {
    qtext.push_back(words(corpus, gen, 6));
    qvec.push_back(unit_near(corpus.topics[static_cast<std::size_t>(topic(gen))], gen, 0.1f));
  }
  std::printf("| method | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n");
  for (const auto mode : {rag::RetrievalMode::bm25, rag::RetrievalMode::dense, rag::RetrievalMode::hybrid}) {
    rag::RetrievalOptions opt;
    opt.mode = mode;
    opt.limit = args.k;
    (void)rag::retrieve(cols, qtext[0], qvec[0], opt);  // warm-up
    std::vector<double> ms;
    std::size_t found = 0;
    for (int q = 0; q < args.queries; ++q) {
      const auto s = Clock::now();
      found += rag::retrieve(cols, qtext[static_cast<std::size_t>(q)], qvec[static_cast<std::size_t>(q)], opt).size();
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    if (found == 0) {
      std::fprintf(stderr, "no method found anything: the benchmark is broken\n");
      return 1;
    }
    report(mode == rag::RetrievalMode::bm25 ? "bm25" : mode == rag::RetrievalMode::dense ? "dense" : "hybrid", ms);
  }
  if (args.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
