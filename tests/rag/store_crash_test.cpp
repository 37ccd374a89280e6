// Crash safety of CollectionStore: plinth_rag_store_writer is killed with SIGKILL at random moments
// while it puts documents; after every kill the store must be whole (integrity check, FTS5 index in
// agreement with the chunks, every document present with exactly its full set of chunks), and the
// next run resumes, skipping what is stored unchanged. The runs alternate between two generations of
// the documents, so most kills interrupt a replacement and no run gets to finish before its kill.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "plinth/rag/store.hpp"
#include "store_test_support.hpp"
#include "writer_shape.hpp"

extern char** environ;

namespace plinth::rag {
namespace {

namespace shape = writer_shape;

// More documents than one run can write in the longest delay before its kill (a few milliseconds
// each), so kills land while the writer works; few enough that the final run is quick.
constexpr int kDocuments = 400;
constexpr int kKills = 20;
// The kill loop stops early past this, so the test stays well under its timeout on a loaded machine.
constexpr auto kKillPhaseBudget = std::chrono::seconds(12);

// Runs the writer; the child's pid.
pid_t spawn_writer(const std::filesystem::path& store, int generation) {
  std::string exe = PLINTH_RAG_STORE_WRITER;
  std::string path = store.string(), gen = std::to_string(generation), docs = std::to_string(kDocuments);
  std::vector<char*> argv = {exe.data(), path.data(), gen.data(), docs.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ);
  EXPECT_EQ(rc, 0) << "cannot start " << exe;
  return rc == 0 ? pid : -1;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

struct Contents {
  int documents = 0;
  int of_generation_2 = 0;
};

// Checks the store is whole and every document complete; `contents`: what it holds.
void check_whole(const std::filesystem::path& file, const std::string& when, Contents& contents) {
  SCOPED_TRACE(when);
  contents = {};
  auto store = CollectionStore::open(file, {.dim = shape::kDim, .embedding_model = shape::kModel});
  EXPECT_TRUE(store.integrity_ok());
  {
    auto raw = test::raw_open(file);
    // FTS5's own check, of the index and (rank 1) of the index against the chunks table.
    EXPECT_EQ(test::raw_exec(raw.get(), "INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')"),
              "");
    EXPECT_EQ(
        test::raw_exec(raw.get(), "INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)"),
        "");
  }
  std::int64_t chunks = 0;
  for (const auto& doc : store.documents()) {
    const int d = std::stoi(doc.source.substr(doc.source.find('-') + 1));
    ASSERT_EQ(doc.metadata.size(), 1u) << doc.source;
    const int g = std::stoi(doc.metadata.front().second);
    const int count = shape::chunk_count(d, g);
    EXPECT_EQ(doc.content_hash, shape::content_hash(d, g));
    EXPECT_EQ(doc.chunk_count, count) << doc.source;
    const auto ids = store.chunk_ids_matching({.sources = std::vector<std::string>{doc.source}});
    const auto records = store.chunks(ids);
    ASSERT_EQ(records.size(), static_cast<std::size_t>(count)) << doc.source << " is partial";
    for (int i = 0; i < count; ++i) {
      const std::string prefix = shape::chunk_prefix(d, i, count, g);
      EXPECT_EQ(records[static_cast<std::size_t>(i)].ordinal, i);
      EXPECT_EQ(records[static_cast<std::size_t>(i)].text.compare(0, prefix.size(), prefix), 0)
          << doc.source << " chunk " << i
          << " is of another version: " << records[static_cast<std::size_t>(i)].text.substr(0, prefix.size());
    }
    chunks += count;
    ++contents.documents;
    if (g == 2) ++contents.of_generation_2;
  }
  EXPECT_EQ(store.chunk_count(), chunks) << "chunks without a document";
}

TEST(StoreCrashTest, KilledWritersNeverLeaveAPartialDocument) {
  test::TempDir dir;
  const auto file = dir.path() / "crash.sqlite";
  std::random_device device;
  const unsigned seed = device();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(5, 200);
  SCOPED_TRACE("seed " + std::to_string(seed));

  const auto start = std::chrono::steady_clock::now();
  int kills = 0, interrupted = 0;
  Contents last;
  for (; kills < kKills && std::chrono::steady_clock::now() - start < kKillPhaseBudget; ++kills) {
    const int generation = 2 - (kKills - 1 - kills) % 2;  // ..., 1, 2: the last killed run is generation 2
    const pid_t pid = spawn_writer(file, generation);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      ++interrupted;
    else
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the writer failed, status " << status;
    if (!std::filesystem::exists(file)) continue;  // killed before it created the store
    check_whole(file,
                "after kill " + std::to_string(kills) + " (generation " + std::to_string(generation) + ")",
                last);
    if (HasFatalFailure()) return;
  }
  std::printf("%d kills in %.1f s, %d interrupted a writer; %d documents stored, %d of generation 2\n", kills,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), interrupted,
              last.documents, last.of_generation_2);
  EXPECT_GE(kills, kKills / 2) << "too few kills in the time budget";
  // A run may rarely finish (when the runs before it left little of its generation to write), but
  // most must be interrupted or the test did not test.
  EXPECT_GE(interrupted, kills / 2) << "the writers finished before their kills";
  EXPECT_GT(last.documents, 0) << "no writer got as far as a commit";

  // The last run completes, writing only what the killed generation-2 runs did not.
  const std::int64_t revision_before = CollectionStore::open(file, {}).revision();
  const pid_t pid = spawn_writer(file, 2);
  ASSERT_GT(pid, 0);
  const int status = wait_for(pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  Contents final_contents;
  check_whole(file, "after the final run", final_contents);
  EXPECT_EQ(final_contents.documents, kDocuments);
  EXPECT_EQ(final_contents.of_generation_2, kDocuments);
  EXPECT_EQ(CollectionStore::open(file, {}).revision() - revision_before, kDocuments - last.of_generation_2)
      << "documents stored unchanged were written again";
}

}  // namespace
}  // namespace plinth::rag
