// read_struct/write_struct with callers whose struct_size is smaller or larger than ours, and probe
// entries written at the host's stride.
#include "plinth/sdk/structs.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "plinth/sdk/probe.hpp"

namespace plinth::sdk {
namespace {

struct Sample {
  uint32_t struct_size;
  uint32_t a;
  const void* next;
  uint64_t b;  // appended in a later minor version
  uint64_t c;
};
constexpr std::size_t kV1 = PLINTH_STRUCT_SIZE_THROUGH(Sample, next);

TEST(Structs, ReadOlderStructDefaultsTheRest) {
  Sample in{};
  in.struct_size = static_cast<uint32_t>(PLINTH_STRUCT_SIZE_THROUGH(Sample, b));
  in.a = 1;
  in.b = 2;
  in.c = 3;  // outside the caller's size: must not be read
  const Sample defaults{0, 10, nullptr, 20, 30};
  const Sample out = read_struct(&in, defaults, kV1, "sample");
  EXPECT_EQ(out.struct_size, sizeof(Sample));
  EXPECT_EQ(out.a, 1u);
  EXPECT_EQ(out.b, 2u);
  EXPECT_EQ(out.c, 30u);
}

TEST(Structs, ReadNewerStructIgnoresTail) {
  struct Newer {
    Sample v1;
    uint64_t d;
  } in{};
  in.v1.struct_size = sizeof in;
  in.v1.c = 7;
  in.d = 99;
  const Sample out = read_struct(&in.v1, Sample{}, kV1, "sample");
  EXPECT_EQ(out.c, 7u);
  EXPECT_EQ(out.struct_size, sizeof(Sample));
}

TEST(Structs, ReadRejectsNullAndTooSmall) {
  EXPECT_THROW(read_struct<Sample>(nullptr, Sample{}, kV1, "sample"), Error);
  Sample in{};
  in.struct_size = 4;
  try {
    read_struct(&in, Sample{}, kV1, "sample");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "sample.struct_size 4 is smaller than its v1 size 16");
  }
}

TEST(Structs, WriteStopsAtCallersSize) {
  // The caller's struct is an older, smaller one followed by bytes we must not touch.
  struct Older {
    uint32_t struct_size;
    uint32_t a;
    const void* next;
    uint64_t b;
    uint64_t guard;
  } out;
  std::memset(&out, 0xab, sizeof out);
  out.struct_size = static_cast<uint32_t>(PLINTH_STRUCT_SIZE_THROUGH(Sample, b));
  int marker = 0;
  out.next = &marker;
  const Sample value{999, 1, nullptr, 2, 3};
  write_struct(reinterpret_cast<Sample*>(&out), value, kV1, "sample");
  EXPECT_EQ(out.struct_size, PLINTH_STRUCT_SIZE_THROUGH(Sample, b));  // preserved
  EXPECT_EQ(out.next, &marker);                                       // preserved
  EXPECT_EQ(out.a, 1u);
  EXPECT_EQ(out.b, 2u);
  EXPECT_EQ(out.guard, 0xababababababababull);
}

TEST(Structs, WriteToNewerFillsOnlyKnownFields) {
  struct Newer {
    Sample v1;
    uint64_t d;
  } out{};
  out.v1.struct_size = sizeof out;
  out.d = 5;
  write_struct(&out.v1, Sample{0, 1, nullptr, 2, 3}, kV1, "sample");
  EXPECT_EQ(out.v1.struct_size, sizeof out);
  EXPECT_EQ(out.v1.c, 3u);
  EXPECT_EQ(out.d, 5u);
}

TEST(Structs, WriteRejectsNullAndTooSmall) {
  EXPECT_THROW(write_struct<Sample>(nullptr, Sample{}, kV1, "sample"), Error);
  Sample out{};
  out.struct_size = 8;
  EXPECT_THROW(write_struct(&out, Sample{}, kV1, "sample"), Error);
}

TEST(Structs, CopyStringTruncatesAndTerminates) {
  char small[4];
  copy_string(small, "abcdef");
  EXPECT_STREQ(small, "abc");
  char big[16];
  copy_string(big, "xy");
  EXPECT_STREQ(big, "xy");
}

}  // namespace
}  // namespace plinth::sdk

namespace plinth::sdk {
namespace {

// A newer host's probe entry: ours plus fields this plugin does not know.
struct WiderEntry {
  plinth_probe_entry_t v1;
  uint64_t newer_field;
};

TEST(ProbeEntries, AreWrittenAtTheHostsStride) {
  std::vector<WiderEntry> host(3);
  for (auto& e : host) {
    e.v1.struct_size = sizeof(WiderEntry);
    e.newer_field = 0xfeedfacecafebeefu;
  }
  for (uint32_t i = 0; i < 3; ++i) {
    plinth_probe_entry_t entry{};
    entry.struct_size = sizeof entry;
    entry.index = 10 + i;
    entry.usable = 1;
    write_probe_entry(&host[0].v1, i, entry);
  }
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(host[i].v1.index, 10 + i) << "element " << i << " must start at i * the host's struct_size";
    EXPECT_EQ(host[i].v1.struct_size, sizeof(WiderEntry)) << "the host's struct_size is kept";
    EXPECT_EQ(host[i].newer_field, 0xfeedfacecafebeefu) << "bytes past our struct stay untouched";
  }
}

TEST(ProbeEntries, AHostStructBelowTheV1SizeIsRejected) {
  plinth_probe_entry_t entries[2]{};
  entries[0].struct_size = 8;
  plinth_probe_entry_t entry{};
  entry.struct_size = sizeof entry;
  try {
    write_probe_entry(entries, 1, entry);
    FAIL() << "expected INVALID_ARGUMENT";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("below the v1.0 size"), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries[1].index, 0u) << "nothing is written";
}

}  // namespace
}  // namespace plinth::sdk
