// Device loss: after DEVICE_LOST every use of the device fails, and destroying its objects in any
// order (buffers that queued work still uses first, streams with recorded work last) returns OK and
// crashes nothing; a host cannot wait for anything after a loss. A loss cannot be produced on
// demand, so these tests use the plugins' test hook PLINTH_PLUGIN_FAULT=device_lost:N (docs/abi.md),
// and report a plugin that does not honour it as unsupported.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace plinth::cts {
namespace {

// Op launches before the hook loses the device.
constexpr uint64_t kLaunchesBeforeLoss = 6;
// Big enough that the work queued before the loss is still running when the destroys come.
constexpr uint64_t kBigBytes = 16ull << 20;

// Sets an environment variable for its lifetime. Used only around a plugin's initialization, in the
// suite's own child after the previous test shut the plugin down: setenv is not safe while other
// threads read the environment.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A session whose device the hook loses after kLaunchesBeforeLoss launches. The variable is set
// only while the plugin is initialized and the device opened, the points where a plugin reads it.
Session open_losing_session(const TestEnv& env) {
  ScopedEnv hook("PLINTH_PLUGIN_FAULT", "device_lost:" + std::to_string(kLaunchesBeforeLoss));
  return Session(env.init, *env.options);
}

// A session on a device the hook loses, work queued on several streams, then the loss. The handles
// are raw so that each test chooses how (and whether) they are destroyed; whatever a failing test
// leaves is reclaimed by device_close when the session ends.
struct LostScene {
  explicit LostScene(const TestEnv& env) : host(pattern_bytes(kBigBytes, 7)), s(open_losing_session(env)) {}

  // Creates the objects, queues work on them without waiting, and launches until the device is
  // lost: launch kLaunchesBeforeLoss + 1 must return DEVICE_LOST.
  void build() {
    const auto& api = s.api();
    for (int i = 0; i < 2; ++i) {
      plinth_stream_t st = nullptr;
      s.check(api.stream_create(s.device(), 0, &st), "stream_create");
      streams.push_back(st);
    }
    for (uint64_t size : {kBigBytes, kBigBytes, uint64_t{4096}}) {
      auto desc = sized<plinth_buffer_desc_t>();
      desc.memory_kind = PLINTH_MEMORY_DEVICE;
      desc.size = size;
      plinth_buffer_t b = nullptr;
      s.check(api.buffer_alloc(s.device(), &desc, &b), "buffer_alloc");
      buffers.push_back(b);
    }
    for (int i = 0; i < 2; ++i) {
      plinth_event_t e = nullptr;
      s.check(api.event_create(s.device(), 0, &e), "event_create");
      events.push_back(e);
    }
    // Stream 0 uploads and copies, stream 1 waits for it; both then queue fills of the big buffers.
    s.check(api.copy_host_to_buffer(streams[0], host.data(), buffers[0], 0, kBigBytes),
            "copy_host_to_buffer");
    s.check(api.copy_buffer(streams[0], buffers[0], 0, buffers[1], 0, kBigBytes), "copy_buffer");
    s.check(api.event_record(events[0], streams[0]), "event_record");
    s.check(api.stream_wait_event(streams[1], events[0]), "stream_wait_event");
    uint64_t launched = 0;
    if (api.graph_begin_capture != nullptr && api.graph_end_capture != nullptr &&
        api.graph_launch != nullptr && api.graph_destroy != nullptr) {
      s.check(api.graph_begin_capture(s.stream()), "graph_begin_capture");
      s.check(launch_fill(s.stream(), buffers[2], 1024), "op_launch(FILL) while capturing");
      ++launched;
      s.check(api.graph_end_capture(s.stream(), &graph), "graph_end_capture");
      s.check(api.graph_launch(graph, s.stream()), "graph_launch");
    }
    for (; launched < kLaunchesBeforeLoss; ++launched) {
      const plinth_status_t st = launch_fill(streams[launched % 2], buffers[launched % 2], kBigBytes / 4);
      if (st == PLINTH_ERROR_DEVICE_LOST) {
        fail("op_launch " + std::to_string(launched + 1) +
             " returned DEVICE_LOST, but PLINTH_PLUGIN_FAULT=device_lost:" +
             std::to_string(kLaunchesBeforeLoss) + " loses the device only after " +
             std::to_string(kLaunchesBeforeLoss) + " launches");
      }
      s.check(st, "op_launch(FILL) " + std::to_string(launched + 1));
    }
    s.check(api.event_record(events[1], streams[1]), "event_record");
    const plinth_status_t st = launch_fill(streams[0], buffers[1], kBigBytes / 4);
    if (st == PLINTH_OK) {
      throw Unsupported(
          "the plugin does not honour the test hook PLINTH_PLUGIN_FAULT=device_lost:N (launch " +
          std::to_string(kLaunchesBeforeLoss + 1) +
          " succeeded), so a device loss cannot be simulated; "
          "see docs/abi.md#device-loss");
    }
    s.expect_status(st, PLINTH_ERROR_DEVICE_LOST,
                    "op_launch " + std::to_string(kLaunchesBeforeLoss + 1) +
                        " with PLINTH_PLUGIN_FAULT=device_lost:" + std::to_string(kLaunchesBeforeLoss));
  }

  plinth_status_t launch_fill(plinth_stream_t stream, plinth_buffer_t buffer, int64_t elements) const {
    auto t = f32_vector(buffer, elements);
    const plinth_tensor_t* outs[1] = {&t};
    auto p = sized<plinth_fill_params_t>();
    p.value = 2.5;
    auto call = sized<plinth_op_call_t>();
    call.op = PLINTH_OP_FILL;
    call.outputs = outs;
    call.num_outputs = 1;
    call.params = &p;
    return s.api().op_launch(stream, &call);
  }

  // The upload's source, declared before the session so that it outlives the device: after a loss
  // the host cannot know whether the copy has read it.
  std::vector<std::byte> host;
  Session s;
  std::vector<plinth_stream_t> streams;
  std::vector<plinth_buffer_t> buffers;
  std::vector<plinth_event_t> events;
  plinth_graph_t graph = nullptr;
};

// A destroy after the loss must succeed: it is the only thing the host can still do.
void expect_destroyed(const Session& s, plinth_status_t status, const std::string& what) {
  if (status == PLINTH_OK) return;
  const std::string message = s.last_error();
  fail(what + " after the device was lost returned " + status_text(status) +
       (message.empty() ? "" : " (" + message + ")") +
       ": destroy calls must still succeed after DEVICE_LOST");
}

void calls_fail(TestEnv& env) {
  LostScene scene(env);
  Session& s = scene.s;
  scene.build();
  const auto& api = s.api();
  auto lost = [&](plinth_status_t st, const std::string& what) {
    s.expect_status(st, PLINTH_ERROR_DEVICE_LOST, what + " after the device was lost");
  };
  lost(scene.launch_fill(scene.streams[1], scene.buffers[2], 16), "op_launch");
  lost(api.stream_synchronize(scene.streams[0]), "stream_synchronize");
  lost(api.stream_synchronize(s.stream()), "stream_synchronize (the session stream)");
  lost(api.copy_host_to_buffer(scene.streams[0], scene.host.data(), scene.buffers[2], 0, 16),
       "copy_host_to_buffer");
  lost(api.copy_buffer(scene.streams[1], scene.buffers[0], 0, scene.buffers[2], 0, 16), "copy_buffer");
  lost(api.event_record(scene.events[1], scene.streams[0]), "event_record");
  lost(api.event_synchronize(scene.events[0]), "event_synchronize");
  lost(api.event_query(scene.events[1]), "event_query");
  lost(api.stream_wait_event(scene.streams[0], scene.events[1]), "stream_wait_event");
  auto desc = sized<plinth_buffer_desc_t>();
  desc.size = 64;
  plinth_buffer_t buffer = nullptr;
  lost(api.buffer_alloc(s.device(), &desc, &buffer), "buffer_alloc");
  if (buffer != nullptr) fail("buffer_alloc after the device was lost set a handle although it failed");
  plinth_stream_t stream = nullptr;
  lost(api.stream_create(s.device(), 0, &stream), "stream_create");
  if (stream != nullptr) fail("stream_create after the device was lost set a handle although it failed");
}

void destroy_in_any_order(TestEnv& env) {
  LostScene scene(env);
  Session& s = scene.s;
  scene.build();
  const auto& api = s.api();
  // The order a host's clean-up may take after a loss: memory first, while queued work still uses
  // it, and the streams holding that work last.
  for (auto b : scene.buffers)
    expect_destroyed(s, api.buffer_free(b), "buffer_free of a buffer queued work uses");
  scene.buffers.clear();
  for (auto e : scene.events) expect_destroyed(s, api.event_destroy(e), "event_destroy");
  scene.events.clear();
  if (scene.graph != nullptr) expect_destroyed(s, api.graph_destroy(scene.graph), "graph_destroy");
  scene.graph = nullptr;
  for (auto st : scene.streams)
    expect_destroyed(s, api.stream_destroy(st), "stream_destroy of a stream with queued work");
  scene.streams.clear();
  // The session stream still holds the graph's replay: device_close reclaims it.
  expect_destroyed(s, s.close_device(), "device_close");
}

void close_reclaims(TestEnv& env) {
  LostScene scene(env);
  Session& s = scene.s;
  scene.build();
  // Nothing destroyed: device_close must reclaim every object, with its queued work, by itself.
  expect_destroyed(s, s.close_device(), "device_close with every object still alive");
}

}  // namespace

SuiteDef lost_suite() {
  SuiteDef suite;
  suite.name = "lost";
  // Each test opens its own session: the hook must be set before the plugin reads it.
  suite.needs_session = false;
  suite.tests = {
      {"lost.calls_fail", "", calls_fail},
      {"lost.destroy_in_any_order", "", destroy_in_any_order},
      {"lost.close_reclaims", "", close_reclaims},
  };
  return suite;
}

}  // namespace plinth::cts
