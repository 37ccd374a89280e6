// Streams and events: in-order execution, cross-stream waits, queries, host waits, timing, and
// many host threads submitting at once.
#include <atomic>
#include <cstring>
#include <thread>

#include "harness.hpp"

namespace plinth::cts {
namespace {

class Stream {
 public:
  Stream(const Session& s) : api_(&s.api()) { s.check(api_->stream_create(s.device(), 0, &h_), "stream_create"); if (!h_) fail("stream_create returned OK but NULL"); }
  ~Stream() { if (h_) api_->stream_destroy(h_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  plinth_stream_t get() const { return h_; }

 private:
  const plinth_plugin_api_t* api_;
  plinth_stream_t h_ = nullptr;
};

class Event {
 public:
  Event(const Session& s, uint32_t flags) : api_(&s.api()) { s.check(api_->event_create(s.device(), flags, &h_), "event_create"); if (!h_) fail("event_create returned OK but NULL"); }
  ~Event() { if (h_) api_->event_destroy(h_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  plinth_event_t get() const { return h_; }

 private:
  const plinth_plugin_api_t* api_;
  plinth_event_t h_ = nullptr;
};

void ordering(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr int kSteps = 300;
  constexpr uint64_t kChunk = 64;
  auto scratch = s.alloc(kChunk);
  auto out = s.alloc(kChunk * kSteps);
  // Each step overwrites the scratch buffer and then copies it to slot i: only in-order execution
  // leaves slot i holding step i's bytes.
  std::vector<std::vector<std::byte>> data;
  for (int i = 0; i < kSteps; ++i) data.push_back(pattern_bytes(kChunk, static_cast<uint64_t>(i) + 100));
  for (int i = 0; i < kSteps; ++i) {
    s.check(api.copy_host_to_buffer(s.stream(), data[i].data(), scratch.get(), 0, kChunk), "copy_host_to_buffer");
    s.check(api.copy_buffer(s.stream(), scratch.get(), 0, out.get(), kChunk * static_cast<uint64_t>(i), kChunk), "copy_buffer");
  }
  s.sync();
  const auto back = s.download(out, 0, kChunk * kSteps);
  for (int i = 0; i < kSteps; ++i) {
    if (std::memcmp(back.data() + kChunk * static_cast<uint64_t>(i), data[i].data(), kChunk) != 0) {
      fail("stream order broken: slot " + std::to_string(i) + " of " + std::to_string(kSteps) + " does not hold the bytes written just before its copy");
    }
  }
}

void cross_stream_wait(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  Stream producer(s), consumer(s);
  constexpr uint64_t kSize = 4 << 20;
  auto src = s.alloc(kSize);
  auto dst = s.alloc(kSize);
  for (int round = 0; round < 4; ++round) {
    const auto data = pattern_bytes(kSize, static_cast<uint64_t>(round) + 40);
    Event ready(s, 0);
    s.check(api.copy_host_to_buffer(producer.get(), data.data(), src.get(), 0, kSize), "copy_host_to_buffer on producer");
    s.check(api.event_record(ready.get(), producer.get()), "event_record");
    s.check(api.stream_wait_event(consumer.get(), ready.get()), "stream_wait_event");
    s.check(api.copy_buffer(consumer.get(), src.get(), 0, dst.get(), 0, kSize), "copy_buffer on consumer");
    std::vector<std::byte> back(kSize);
    s.check(api.copy_buffer_to_host(consumer.get(), dst.get(), 0, back.data(), kSize), "copy_buffer_to_host on consumer");
    s.check(api.stream_synchronize(consumer.get()), "stream_synchronize(consumer)");
    if (back != data) fail("round " + std::to_string(round) + ": the consumer stream ran before the event it waits for");
    s.check(api.stream_synchronize(producer.get()), "stream_synchronize(producer)");
  }
}

void event_query(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  Event never(s, 0);
  s.expect_status(api.event_query(never.get()), PLINTH_OK, "event_query of a never-recorded event");
  s.check(api.event_synchronize(never.get()), "event_synchronize of a never-recorded event");
  constexpr uint64_t kSize = 32 << 20;
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  const auto data = pattern_bytes(kSize, 5);
  bool saw_not_ready = false;
  Event e(s, 0);
  for (int round = 0; round < 3; ++round) {
    s.check(api.copy_host_to_buffer(s.stream(), data.data(), a.get(), 0, kSize), "copy_host_to_buffer");
    for (int i = 0; i < 4; ++i) s.check(api.copy_buffer(s.stream(), a.get(), 0, b.get(), 0, kSize), "copy_buffer");
    s.check(api.event_record(e.get(), s.stream()), "event_record");
    const plinth_status_t st = api.event_query(e.get());
    if (st != PLINTH_OK && st != PLINTH_ERROR_NOT_READY) fail(std::string("event_query: got ") + status_text(st) + ", want OK or NOT_READY");
    saw_not_ready = saw_not_ready || st == PLINTH_ERROR_NOT_READY;
    s.check(api.event_synchronize(e.get()), "event_synchronize");
    s.expect_status(api.event_query(e.get()), PLINTH_OK, "event_query after event_synchronize");
  }
  s.sync();
  if (s.download(b, kSize - 4096, 4096) != std::vector<std::byte>(data.end() - 4096, data.end())) fail("data copied before the event is wrong");
  env.note = saw_not_ready ? "event_query reported NOT_READY while work was pending" : "NOT_READY never observed (work finished before the query)";
}

void host_waits(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr uint64_t kSize = 1 << 20;
  auto a = s.alloc(kSize);
  for (int round = 0; round < 20; ++round) {
    const auto data = pattern_bytes(kSize, static_cast<uint64_t>(round));
    std::vector<std::byte> back(kSize);
    Event e(s, 0);
    s.check(api.copy_host_to_buffer(s.stream(), data.data(), a.get(), 0, kSize), "copy_host_to_buffer");
    s.check(api.copy_buffer_to_host(s.stream(), a.get(), 0, back.data(), kSize), "copy_buffer_to_host");
    s.check(api.event_record(e.get(), s.stream()), "event_record");
    s.check(api.event_synchronize(e.get()), "event_synchronize");
    if (back != data) fail("after event_synchronize the copy recorded before the event has not landed (round " + std::to_string(round) + ")");
  }
  // Destroying a stream waits for its work.
  {
    const auto data = pattern_bytes(kSize, 77);
    {
      Stream t(s);
      s.check(api.copy_host_to_buffer(t.get(), data.data(), a.get(), 0, kSize), "copy_host_to_buffer");
    }
    if (s.download(a, 0, kSize) != data) fail("stream_destroy returned before its queued copy finished");
  }
}

void elapsed_time(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  if (api.event_elapsed_ms == nullptr) {
    if (s.props().features & PLINTH_FEATURE_TIMESTAMPS) fail("PLINTH_FEATURE_TIMESTAMPS set but event_elapsed_ms is NULL");
    throw Skipped("event_elapsed_ms is NULL (no PLINTH_FEATURE_TIMESTAMPS)");
  }
  Event e0(s, PLINTH_EVENT_FLAG_TIMING), e1(s, PLINTH_EVENT_FLAG_TIMING), e2(s, PLINTH_EVENT_FLAG_TIMING);
  constexpr uint64_t kSize = 8 << 20;
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  s.check(api.event_record(e0.get(), s.stream()), "event_record");
  s.check(api.copy_buffer(s.stream(), a.get(), 0, b.get(), 0, kSize), "copy_buffer");
  s.check(api.event_record(e1.get(), s.stream()), "event_record");
  s.check(api.copy_buffer(s.stream(), b.get(), 0, a.get(), 0, kSize), "copy_buffer");
  s.check(api.event_record(e2.get(), s.stream()), "event_record");
  s.sync();
  float t01 = -1, t02 = -1, t12 = -1;
  s.check(api.event_elapsed_ms(e0.get(), e1.get(), &t01), "event_elapsed_ms(e0, e1)");
  s.check(api.event_elapsed_ms(e0.get(), e2.get(), &t02), "event_elapsed_ms(e0, e2)");
  s.check(api.event_elapsed_ms(e1.get(), e2.get(), &t12), "event_elapsed_ms(e1, e2)");
  if (!(t01 >= 0) || !(t12 >= 0)) fail("elapsed times must be >= 0: e0->e1 " + std::to_string(t01) + " ms, e1->e2 " + std::to_string(t12) + " ms");
  if (t02 + 1e-3f < t01) fail("elapsed time is not monotone: e0->e2 " + std::to_string(t02) + " ms < e0->e1 " + std::to_string(t01) + " ms");
  Event plain(s, 0);
  s.check(api.event_record(plain.get(), s.stream()), "event_record");
  s.sync();
  float ms = 0;
  s.expect_status(api.event_elapsed_ms(e0.get(), plain.get(), &ms), PLINTH_ERROR_INVALID_ARGUMENT, "event_elapsed_ms with a non-timing event");
  Event unrecorded(s, PLINTH_EVENT_FLAG_TIMING);
  s.expect_status(api.event_elapsed_ms(e0.get(), unrecorded.get(), &ms), PLINTH_ERROR_INVALID_ARGUMENT, "event_elapsed_ms with a never-recorded event");
  env.note = "copy of 8 MiB: " + std::to_string(t01) + " ms";
}

void threads_own_streams(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr int kThreads = 8, kIters = 40;
  constexpr uint64_t kSize = 4096;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Stream st(s);
        auto a = s.alloc(kSize);
        auto b = s.alloc(kSize);
        for (int i = 0; i < kIters; ++i) {
          const auto data = pattern_bytes(kSize, static_cast<uint64_t>(t * 1000 + i));
          std::vector<std::byte> back(kSize);
          s.check(api.copy_host_to_buffer(st.get(), data.data(), a.get(), 0, kSize), "copy_host_to_buffer");
          s.check(api.copy_buffer(st.get(), a.get(), 0, b.get(), 0, kSize), "copy_buffer");
          s.check(api.copy_buffer_to_host(st.get(), b.get(), 0, back.data(), kSize), "copy_buffer_to_host");
          s.check(api.stream_synchronize(st.get()), "stream_synchronize");
          if (back != data) fail("iteration " + std::to_string(i) + " read back wrong bytes");
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    if (!errors[static_cast<std::size_t>(t)].empty()) fail("thread " + std::to_string(t) + " of " + std::to_string(kThreads) + " on its own stream: " + errors[static_cast<std::size_t>(t)]);
  }
}

void threads_shared_stream(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr int kThreads = 8, kIters = 50;
  constexpr uint64_t kSlot = 256;
  auto a = s.alloc(kSlot * kThreads);
  auto b = s.alloc(kSlot * kThreads);
  // Every (thread, iteration) payload stays alive until the final synchronize.
  std::vector<std::vector<std::byte>> payload(kThreads * kIters);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kIters; ++i) payload[static_cast<std::size_t>(t * kIters + i)] = pattern_bytes(kSlot, static_cast<uint64_t>(t * 7919 + i));
  }
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        const uint64_t off = kSlot * static_cast<uint64_t>(t);
        for (int i = 0; i < kIters; ++i) {
          s.check(api.copy_host_to_buffer(s.stream(), payload[static_cast<std::size_t>(t * kIters + i)].data(), a.get(), off, kSlot), "copy_host_to_buffer");
          s.check(api.copy_buffer(s.stream(), a.get(), off, b.get(), off, kSlot), "copy_buffer");
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    if (!errors[static_cast<std::size_t>(t)].empty()) fail("thread " + std::to_string(t) + " on the shared stream: " + errors[static_cast<std::size_t>(t)]);
  }
  s.sync();
  const auto back = s.download(b, 0, kSlot * kThreads);
  for (int t = 0; t < kThreads; ++t) {
    const auto& last = payload[static_cast<std::size_t>(t * kIters + kIters - 1)];
    if (std::memcmp(back.data() + kSlot * static_cast<uint64_t>(t), last.data(), kSlot) != 0) {
      fail("thread " + std::to_string(t) + "'s slot does not hold its last submission: the shared stream reordered one thread's work");
    }
  }
}

void rerecord(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  Stream other(s);
  Event e(s, 0);
  constexpr uint64_t kSize = 1 << 20;
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  for (int round = 0; round < 5; ++round) {
    const auto data = pattern_bytes(kSize, static_cast<uint64_t>(round) + 900);
    s.check(api.copy_host_to_buffer(s.stream(), data.data(), a.get(), 0, kSize), "copy_host_to_buffer");
    s.check(api.event_record(e.get(), s.stream()), "event_record (re-record)");
    s.check(api.stream_wait_event(other.get(), e.get()), "stream_wait_event");
    s.check(api.copy_buffer(other.get(), a.get(), 0, b.get(), 0, kSize), "copy_buffer");
    s.check(api.stream_synchronize(other.get()), "stream_synchronize");
    s.sync();
    if (s.download(b, 0, kSize) != data) fail("round " + std::to_string(round) + ": waiting on a re-recorded event did not order after its new record");
  }
}

}  // namespace

SuiteDef streams_suite() {
  SuiteDef s{"streams", true, {}};
  s.tests = {
      {"streams.ordering", "", ordering},
      {"streams.cross_stream_wait", "", cross_stream_wait},
      {"streams.event_query", "", event_query},
      {"streams.host_waits", "", host_waits},
      {"streams.elapsed_time", "", elapsed_time},
      {"streams.threads_own_streams", "", threads_own_streams},
      {"streams.threads_shared_stream", "", threads_shared_stream},
      {"streams.rerecord", "", rerecord},
  };
  return s;
}

}  // namespace plinth::cts
