// The plugin adapter (plinth/sdk/plugin.hpp) driven through the C table it builds, with a small
// three-device backend: probe at a host's larger stride, the same-device rule between two opens of
// one index for every entry that takes two handles, re-initialization, and the reclaiming of what
// the host leaked at device_close and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "plinth/sdk/plugin.hpp"
#include "test_structs.hpp"

namespace {

namespace sdk = plinth::sdk;

// Live objects of the test backend, so the tests can see what was reclaimed.
std::atomic<int> g_live{0};
std::atomic<bool> g_refuse_free{false};  // the backend's before_free refuses while set
struct Counted {
  Counted() { ++g_live; }
  Counted(const Counted&) = delete;
  ~Counted() { --g_live; }
};

struct Buffer : Counted {
  explicit Buffer(uint64_t n) : bytes(n) {}
  std::vector<unsigned char> bytes;
};
struct Stream : Counted {};
struct Event : Counted {};
struct Graph : Counted {};

struct Device : Counted {
  void properties(plinth_device_properties_t& p) { p.total_memory = 1; }
  std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& d) { return std::make_unique<Buffer>(d.size); }
  std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(); }
  std::unique_ptr<Event> create_event(bool) { return std::make_unique<Event>(); }
  void copy_to_buffer(Stream&, const void* src, Buffer& dst, uint64_t off, uint64_t n) {
    std::memcpy(dst.bytes.data() + off, src, n);
  }
  void copy_to_host(Stream&, Buffer& src, uint64_t off, void* dst, uint64_t n) {
    std::memcpy(dst, src.bytes.data() + off, n);
  }
  void copy_buffer(Stream&, Buffer& src, uint64_t so, Buffer& dst, uint64_t dof, uint64_t n) {
    std::memcpy(dst.bytes.data() + dof, src.bytes.data() + so, n);
  }
  void synchronize(Stream&) {}
  void synchronize(Event&) {}
  void record(Event&, Stream&) {}
  void wait(Stream&, Event&) {}
  bool query(Event&) { return true; }
  float elapsed_ms(Event&, Event&) { return 1.5f; }
  std::string supports(const sdk::OpCall& c) {
    return c.outputs[0].dtype == PLINTH_DTYPE_F32 ? "" : "only f32";
  }
  void launch(Stream&, const sdk::OpCall& c, const sdk::OpBuffers<Buffer>& b) {
    ++launches;
    ASSERT_NE(b.outputs[0], nullptr);
    (void)c;
  }
  void begin_capture(Stream&) {}
  std::unique_ptr<Graph> end_capture(Stream&) { return std::make_unique<Graph>(); }
  void launch_graph(Graph&, Stream&) {}
  void before_free(Buffer&) {
    if (g_refuse_free) sdk::fail(PLINTH_ERROR_INVALID_STATE, "queued work still uses it");
  }
  int launches = 0;
};

struct TestPlugin {
  static constexpr const char* kName = "adaptertest";
  static constexpr const char* kVersion = "1";
  using Device = ::Device;
  std::vector<sdk::ProbeInfo> probe() const {
    return {{0, "zero", ""}, {1, "one", ""}, {2, "two", "the test says so"}};
  }
  std::unique_ptr<Device> open(uint32_t) { return std::make_unique<Device>(); }
};

// No optional hooks at all: their entries must stay NULL.
struct Minimal {
  struct Dev {
    void properties(plinth_device_properties_t&) {}
    std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& d) { return std::make_unique<Buffer>(d.size); }
    std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(); }
    std::unique_ptr<Event> create_event(bool) { return std::make_unique<Event>(); }
    void copy_to_buffer(Stream&, const void*, Buffer&, uint64_t, uint64_t) {}
    void copy_to_host(Stream&, Buffer&, uint64_t, void*, uint64_t) {}
    void copy_buffer(Stream&, Buffer&, uint64_t, Buffer&, uint64_t, uint64_t) {}
    void synchronize(Stream&) {}
    void synchronize(Event&) {}
    void record(Event&, Stream&) {}
    void wait(Stream&, Event&) {}
    bool query(Event&) { return true; }
    std::string supports(const sdk::OpCall&) { return {}; }
    void launch(Stream&, const sdk::OpCall&, const sdk::OpBuffers<Buffer>&) {}
  };
  static constexpr const char* kName = "minimal";
  static constexpr const char* kVersion = "1";
  using Device = Dev;
  std::vector<sdk::ProbeInfo> probe() const { return {{0, "only", ""}}; }
  std::unique_ptr<Device> open(uint32_t) { return std::make_unique<Device>(); }
};

using plinth::sdk::test::host_v1;

class Adapter : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = host_v1();
    ASSERT_EQ(sdk::plugin_init<TestPlugin>(&host_, &api_), PLINTH_OK);
    ASSERT_EQ(api_->device_open(0, &a_), PLINTH_OK) << api_->last_error_message();
    ASSERT_EQ(api_->device_open(0, &b_), PLINTH_OK);  // the same index again: another device
    ASSERT_EQ(api_->stream_create(a_, 0, &sa_), PLINTH_OK);
    ASSERT_EQ(api_->stream_create(b_, 0, &sb_), PLINTH_OK);
    ba_ = alloc(a_, 64);
    bb_ = alloc(b_, 64);
  }
  void TearDown() override {
    EXPECT_EQ(api_->shutdown(), PLINTH_OK);  // reclaims everything the tests leave open
    EXPECT_EQ(g_live.load(), 0);
  }
  plinth_buffer_t alloc(plinth_device_t d, uint64_t size) {
    plinth_buffer_desc_t desc{};
    desc.struct_size = sizeof desc;
    desc.size = size;
    plinth_buffer_t b = nullptr;
    EXPECT_EQ(api_->buffer_alloc(d, &desc, &b), PLINTH_OK) << api_->last_error_message();
    return b;
  }
  plinth_event_t event(plinth_device_t d, uint32_t flags = PLINTH_EVENT_FLAG_TIMING) {
    plinth_event_t e = nullptr;
    EXPECT_EQ(api_->event_create(d, flags, &e), PLINTH_OK);
    return e;
  }
  void expect_foreign(plinth_status_t st) {
    EXPECT_EQ(st, PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(api_->last_error_message()).find("different devices"), std::string::npos)
        << api_->last_error_message();
  }

  plinth_host_services_t host_{};
  const plinth_plugin_api_t* api_ = nullptr;
  plinth_device_t a_ = nullptr, b_ = nullptr;
  plinth_stream_t sa_ = nullptr, sb_ = nullptr;
  plinth_buffer_t ba_ = nullptr, bb_ = nullptr;
};

TEST_F(Adapter, ProbeWritesAtTheCallersStrideAndLeavesPaddingAlone) {
  constexpr std::size_t kStride = sizeof(plinth_probe_entry_t) + 40;  // a newer host's larger entry
  std::vector<unsigned char> raw(3 * kStride, 0xAB);
  for (int i = 0; i < 3; ++i) {
    auto* e = reinterpret_cast<plinth_probe_entry_t*>(raw.data() + i * kStride);
    e->struct_size = kStride;
    e->next = nullptr;
  }
  uint32_t count = 0;
  ASSERT_EQ(api_->probe(reinterpret_cast<plinth_probe_entry_t*>(raw.data()), 3, &count), PLINTH_OK);
  EXPECT_EQ(count, 3u);
  const char* names[] = {"zero", "one", "two"};
  for (int i = 0; i < 3; ++i) {
    plinth_probe_entry_t e;
    std::memcpy(&e, raw.data() + i * kStride, sizeof e);
    EXPECT_EQ(e.struct_size, kStride);
    EXPECT_EQ(e.index, static_cast<uint32_t>(i));
    EXPECT_STREQ(e.name, names[i]);
    EXPECT_EQ(e.usable, i < 2 ? 1u : 0u);
    for (std::size_t k = sizeof e; k < kStride; ++k) ASSERT_EQ(raw[i * kStride + k], 0xAB) << i << " " << k;
  }
  EXPECT_STREQ(reinterpret_cast<plinth_probe_entry_t*>(raw.data() + 2 * kStride)->reason, "the test says so");
  // Capacity 1: the other elements stay untouched.
  std::vector<unsigned char> one(2 * kStride, 0xCD);
  reinterpret_cast<plinth_probe_entry_t*>(one.data())->struct_size = kStride;
  ASSERT_EQ(api_->probe(reinterpret_cast<plinth_probe_entry_t*>(one.data()), 1, &count), PLINTH_OK);
  for (std::size_t k = sizeof(plinth_probe_entry_t); k < one.size(); ++k) ASSERT_EQ(one[k], 0xCD);
}

TEST_F(Adapter, OpenFollowsTheProbeList) {
  plinth_device_t d = nullptr;
  EXPECT_EQ(api_->device_open(2, &d), PLINTH_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(api_->last_error_message()).find("the test says so"), std::string::npos);
  EXPECT_EQ(api_->device_open(3, &d), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->device_open(UINT32_MAX, &d), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(d, nullptr);
}

TEST_F(Adapter, CopiesRejectBuffersOfAnotherOpenOfTheSameIndex) {
  unsigned char bytes[8] = {};
  expect_foreign(api_->copy_host_to_buffer(sa_, bytes, bb_, 0, 8));
  expect_foreign(api_->copy_buffer_to_host(sa_, bb_, 0, bytes, 8));
  expect_foreign(api_->copy_buffer(sa_, bb_, 0, ba_, 0, 8));
  expect_foreign(api_->copy_buffer(sa_, ba_, 0, bb_, 0, 8));
  EXPECT_EQ(api_->copy_buffer(sa_, ba_, 0, alloc(a_, 8), 0, 8), PLINTH_OK);
}

TEST_F(Adapter, EventsRejectStreamsAndEventsOfAnotherOpen) {
  plinth_event_t ea = event(a_), eb = event(b_);
  expect_foreign(api_->event_record(eb, sa_));
  expect_foreign(api_->stream_wait_event(sa_, eb));
  ASSERT_EQ(api_->event_record(ea, sa_), PLINTH_OK);
  ASSERT_EQ(api_->event_record(eb, sb_), PLINTH_OK);
  float ms = 0;
  expect_foreign(api_->event_elapsed_ms(ea, eb, &ms));
  EXPECT_EQ(api_->event_elapsed_ms(ea, ea, &ms), PLINTH_OK);
  EXPECT_EQ(ms, 1.5f);
}

TEST_F(Adapter, ElapsedNeedsTimingAndRecords) {
  plinth_event_t plain = event(a_, 0), timed = event(a_), fresh = event(a_);
  ASSERT_EQ(api_->event_record(plain, sa_), PLINTH_OK);
  ASSERT_EQ(api_->event_record(timed, sa_), PLINTH_OK);
  float ms = 0;
  EXPECT_EQ(api_->event_elapsed_ms(plain, timed, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->event_elapsed_ms(timed, fresh, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->event_create(a_, 2, &fresh), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST_F(Adapter, GraphsRejectStreamsOfAnotherOpen) {
  ASSERT_EQ(api_->graph_begin_capture(sb_), PLINTH_OK);
  plinth_graph_t g = nullptr;
  ASSERT_EQ(api_->graph_end_capture(sb_, &g), PLINTH_OK);
  expect_foreign(api_->graph_launch(g, sa_));
  EXPECT_EQ(api_->graph_launch(g, sb_), PLINTH_OK);
}

TEST_F(Adapter, OpLaunchRejectsTensorsOfAnotherOpen) {
  plinth_fill_params_t params{};
  params.struct_size = sizeof params;
  params.value = 2;
  const plinth_tensor_t y = sdk::test::f32(bb_, {4});
  std::vector<const plinth_tensor_t*> ins, outs{&y};
  const plinth_op_call_t call = sdk::test::make_call(PLINTH_OP_FILL, ins, outs, &params);
  expect_foreign(api_->op_launch(sa_, &call));
  EXPECT_EQ(api_->op_launch(sb_, &call), PLINTH_OK) << api_->last_error_message();
  // op_supports answers 0 with the reason as the message, and PLINTH_OK.
  uint32_t supported = 2;
  plinth_tensor_t half = y;
  half.dtype = PLINTH_DTYPE_F16;
  half.strides[0] = 2;
  outs[0] = &half;
  EXPECT_EQ(api_->op_supports(a_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);
  EXPECT_STREQ(api_->last_error_message(), "only f32");
  EXPECT_EQ(api_->op_launch(sb_, &call), PLINTH_ERROR_UNSUPPORTED);
}

TEST_F(Adapter, RangesAndOverlapAreChecked) {
  unsigned char bytes[8] = {};
  EXPECT_EQ(api_->copy_host_to_buffer(sa_, bytes, ba_, 60, 8), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->copy_buffer_to_host(sa_, ba_, UINT64_MAX, bytes, 2), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->copy_buffer(sa_, ba_, 0, ba_, 4, 8), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->copy_buffer(sa_, ba_, 0, ba_, 8, 8), PLINTH_OK);
  EXPECT_EQ(api_->copy_host_to_buffer(sa_, nullptr, ba_, 0, 8), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->copy_host_to_buffer(sa_, nullptr, ba_, 0, 0), PLINTH_OK);
}

TEST_F(Adapter, BeforeFreeMayRefuseAndTheBufferStaysLive) {
  const int before = g_live.load();
  g_refuse_free = true;
  EXPECT_EQ(api_->buffer_free(ba_), PLINTH_ERROR_INVALID_STATE);
  g_refuse_free = false;
  EXPECT_STREQ(api_->last_error_message(), "buffer_free: queued work still uses it");
  EXPECT_EQ(g_live.load(), before);
  unsigned char bytes[8] = {};
  EXPECT_EQ(api_->copy_host_to_buffer(sa_, bytes, ba_, 0, 8), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(api_->buffer_free(ba_), PLINTH_OK);
  EXPECT_EQ(g_live.load(), before - 1);
  EXPECT_EQ(api_->buffer_free(ba_), PLINTH_ERROR_INVALID_ARGUMENT);  // gone now
}

TEST_F(Adapter, SecondInitKeepsStateAndHandles) {
  const plinth_plugin_api_t* again = nullptr;
  const plinth_host_services_t second = host_v1();
  ASSERT_EQ(sdk::plugin_init<TestPlugin>(&second, &again), PLINTH_OK);
  EXPECT_EQ(again, api_);
  unsigned char bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(api_->copy_host_to_buffer(sa_, bytes, ba_, 0, 8), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(api_->stream_synchronize(sb_), PLINTH_OK);
}

TEST_F(Adapter, DeviceCloseReclaimsOnlyThatDevicesObjects) {
  const int before = g_live.load();
  plinth_event_t e = event(a_);
  ASSERT_EQ(api_->event_record(e, sa_), PLINTH_OK);
  ASSERT_EQ(api_->graph_begin_capture(sa_), PLINTH_OK);
  plinth_graph_t g = nullptr;
  ASSERT_EQ(api_->graph_end_capture(sa_, &g), PLINTH_OK);
  EXPECT_EQ(g_live.load(), before + 2);
  ASSERT_EQ(api_->device_close(a_), PLINTH_OK);
  EXPECT_EQ(g_live.load(), before - 3);  // the device, its stream and its buffer, plus event and graph
  EXPECT_EQ(api_->stream_synchronize(sa_), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->device_close(a_), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->stream_synchronize(sb_), PLINTH_OK);  // the other open of index 0 works on
  unsigned char bytes[8] = {};
  EXPECT_EQ(api_->copy_host_to_buffer(sb_, bytes, bb_, 0, 8), PLINTH_OK);
}

TEST_F(Adapter, ShutdownEndsTheStateAndInitStartsAfresh) {
  event(a_);
  ASSERT_EQ(api_->shutdown(), PLINTH_OK);
  EXPECT_EQ(g_live.load(), 0);
  EXPECT_EQ(api_->stream_synchronize(sa_), PLINTH_ERROR_INVALID_STATE);
  ASSERT_EQ(sdk::plugin_init<TestPlugin>(&host_, &api_), PLINTH_OK);
  plinth_device_t d = nullptr;
  EXPECT_EQ(api_->device_open(1, &d), PLINTH_OK);
}

TEST_F(Adapter, StructSizesAndNullOutputsAreChecked) {
  plinth_device_properties_t small{};
  small.struct_size = 8;
  EXPECT_EQ(api_->device_get_properties(a_, &small), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(a_, &p), PLINTH_OK);
  EXPECT_EQ(p.total_memory, 1u);
  EXPECT_EQ(api_->stream_create(a_, 0, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->stream_create(a_, 1, &sa_), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api_->last_error_message()).rfind("stream_create: ", 0), std::string::npos);
  uint32_t count = 0;
  plinth_probe_entry_t tiny{};
  tiny.struct_size = 4;
  EXPECT_EQ(api_->probe(&tiny, 1, &count), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST(AdapterTable, OptionalHooksDecideOptionalEntries) {
  const plinth_plugin_api_t& full = sdk::make_api<TestPlugin>();
  EXPECT_NE(full.event_elapsed_ms, nullptr);
  EXPECT_NE(full.graph_launch, nullptr);
  EXPECT_EQ(full.buffer_map, nullptr);  // TestPlugin has no map hook
  EXPECT_EQ(full.device_memory_info, nullptr);
  const plinth_plugin_api_t& min = sdk::make_api<Minimal>();
  EXPECT_EQ(min.event_elapsed_ms, nullptr);
  EXPECT_EQ(min.graph_begin_capture, nullptr);
  EXPECT_EQ(min.graph_end_capture, nullptr);
  EXPECT_EQ(min.graph_launch, nullptr);
  EXPECT_EQ(min.graph_destroy, nullptr);
  EXPECT_EQ(min.buffer_unmap, nullptr);
  EXPECT_NE(min.op_launch, nullptr);
  EXPECT_STREQ(min.name, "minimal");
  EXPECT_EQ(min.struct_size, sizeof(plinth_plugin_api_t));
}

TEST(AdapterInit, RejectsBadHostsAndKeepsNothing) {
  const plinth_plugin_api_t* api = nullptr;
  EXPECT_EQ(sdk::plugin_init<Minimal>(nullptr, &api), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_host_services_t h = host_v1();
  h.abi_major = 99;
  EXPECT_EQ(sdk::plugin_init<Minimal>(&h, &api), PLINTH_ERROR_INCOMPATIBLE_VERSION);
  ASSERT_NE(api, nullptr);
  EXPECT_STREQ(api->name, "minimal");
  plinth_device_t d = nullptr;
  EXPECT_EQ(api->device_open(0, &d), PLINTH_ERROR_INVALID_STATE);  // never initialized
}

}  // namespace
