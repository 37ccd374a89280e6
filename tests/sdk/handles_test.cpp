// HandleTable: live handles resolve, stale and foreign ones are INVALID_ARGUMENT.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plinth/abi.h"
#include "plinth/sdk/handles.hpp"

namespace plinth::sdk {
namespace {

struct Thing {
  int device;
  int value;
};

void expect_invalid(const std::function<void()>& f, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(e.what(), message);
  }
}

TEST(HandleTable, InsertGetErase) {
  HandleTable<plinth_buffer_t, Thing> table("buffer");
  const plinth_buffer_t h = table.insert(std::make_unique<Thing>(Thing{0, 7}));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(table.get(h).value, 7);
  EXPECT_EQ(table.size(), 1u);
  std::unique_ptr<Thing> owned = table.erase(h);
  EXPECT_EQ(owned->value, 7);
  EXPECT_EQ(table.size(), 0u);
  expect_invalid([&] { table.get(h); }, "unknown or destroyed buffer handle");
  expect_invalid([&] { table.erase(h); }, "unknown or destroyed buffer handle");
  expect_invalid([&] { table.get(nullptr); }, "NULL buffer handle");
  int foreign = 0;
  expect_invalid([&] { table.get(reinterpret_cast<plinth_buffer_t>(&foreign)); }, "unknown or destroyed buffer handle");
}

TEST(HandleTable, EraseIfReclaimsByPredicate) {
  HandleTable<plinth_stream_t, Thing> table("stream");
  std::vector<plinth_stream_t> handles;
  for (int i = 0; i < 6; ++i) handles.push_back(table.insert(std::make_unique<Thing>(Thing{i % 2, i})));
  auto reclaimed = table.erase_if([](const Thing& t) { return t.device == 1; });
  EXPECT_EQ(reclaimed.size(), 3u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.get(handles[0]).value, 0);
  EXPECT_THROW(table.get(handles[1]), Error);
}

TEST(HandleTable, ConcurrentInsertAndErase) {
  HandleTable<plinth_event_t, Thing> table("event");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < 500; ++i) {
        const plinth_event_t h = table.insert(std::make_unique<Thing>(Thing{t, i}));
        if (table.get(h).value != i) std::abort();
        table.erase(h);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace plinth::sdk
