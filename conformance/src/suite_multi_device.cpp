// Handles of different devices passed together (abi.h rule 8): every entry that takes several
// handles must return INVALID_ARGUMENT, with a message, and change nothing. "Different devices"
// means different device handles: two opens of one index are different devices, so a plugin with a
// single device is checked too. With a second usable index the pairing with it is checked as well.
#include <cstring>
#include <memory>

#include "harness.hpp"

namespace plinth::cts {
namespace {

constexpr uint64_t kSize = 256;

// Another device next to the session's, with its own stream; everything created on it is freed
// before the device is closed.
class OtherDevice {
 public:
  OtherDevice(const Session& s, uint32_t index, std::string label)
      : s_(s), api_(s.api()), label_(std::move(label)) {
    s.check(api_.device_open(index, &device_), label_ + ": device_open(" + std::to_string(index) + ")");
    if (device_ == nullptr) fail(label_ + ": device_open returned OK but a NULL handle");
    s.check(api_.stream_create(device_, 0, &stream_), label_ + ": stream_create");
  }
  ~OtherDevice() {
    for (auto b : buffers_) api_.buffer_free(b);
    for (auto e : events_) api_.event_destroy(e);
    if (stream_ != nullptr) api_.stream_destroy(stream_);
    if (device_ != nullptr) api_.device_close(device_);
  }
  OtherDevice(const OtherDevice&) = delete;
  OtherDevice& operator=(const OtherDevice&) = delete;

  const std::string& label() const { return label_; }
  plinth_device_t device() const { return device_; }
  plinth_stream_t stream() const { return stream_; }

  // A buffer holding `image`.
  plinth_buffer_t buffer(const std::vector<std::byte>& image) {
    auto desc = sized<plinth_buffer_desc_t>();
    desc.size = image.size();
    plinth_buffer_t b = nullptr;
    s_.check(api_.buffer_alloc(device_, &desc, &b), label_ + ": buffer_alloc");
    buffers_.push_back(b);
    s_.check(api_.copy_host_to_buffer(stream_, image.data(), b, 0, image.size()),
             label_ + ": copy_host_to_buffer");
    sync();
    return b;
  }
  plinth_event_t event(uint32_t flags) {
    plinth_event_t e = nullptr;
    s_.check(api_.event_create(device_, flags, &e), label_ + ": event_create");
    events_.push_back(e);
    return e;
  }
  std::vector<std::byte> read(plinth_buffer_t b) {
    std::vector<std::byte> out(kSize);
    s_.check(api_.copy_buffer_to_host(stream_, b, 0, out.data(), kSize), label_ + ": copy_buffer_to_host");
    sync();
    return out;
  }
  void sync() { s_.check(api_.stream_synchronize(stream_), label_ + ": stream_synchronize"); }

 private:
  const Session& s_;
  const plinth_plugin_api_t& api_;
  std::string label_;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
  std::vector<plinth_buffer_t> buffers_;
  std::vector<plinth_event_t> events_;
};

// The devices to pair with the session's: the same index opened again, and another usable index
// when the probe lists one.
std::vector<std::unique_ptr<OtherDevice>> other_devices(const Session& s) {
  std::vector<std::unique_ptr<OtherDevice>> out;
  const uint32_t mine = s.device_index();
  out.push_back(std::make_unique<OtherDevice>(s, mine, "a second open of device " + std::to_string(mine)));
  const auto& api = s.api();
  uint32_t count = 0;
  s.check(api.probe(nullptr, 0, &count), "probe(capacity 0)");
  std::vector<plinth_probe_entry_t> entries(count, sized<plinth_probe_entry_t>());
  uint32_t filled = 0;
  if (count > 0) s.check(api.probe(entries.data(), count, &filled), "probe");
  for (uint32_t i = 0; i < std::min(count, filled); ++i) {
    const auto& e = entries[i];
    if (e.usable == 1 && e.index != UINT32_MAX && e.index != mine) {
      out.push_back(std::make_unique<OtherDevice>(s, e.index, "device " + std::to_string(e.index)));
      break;
    }
  }
  return out;
}

// Requires INVALID_ARGUMENT with a message for a call that mixes devices.
void expect_rejected(const Session& s, plinth_status_t st, const std::string& what) {
  const std::string message = s.last_error();
  if (st != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail(what + ": got " + status_text(st) +
         ", want PLINTH_ERROR_INVALID_ARGUMENT (handles of different devices, abi.h rule 8)" +
         (message.empty() ? "" : " (message: " + message + ")"));
  }
  if (message.empty()) fail(what + ": returned INVALID_ARGUMENT with an empty last_error_message");
}

void expect_clean_stream(const Session& s, plinth_stream_t stream, const std::string& after) {
  const plinth_status_t st = s.api().stream_synchronize(stream);
  if (st != PLINTH_OK) {
    fail("after " + after + ": stream_synchronize returned " + status_text(st) +
         ": a rejected call has no effect and leaves no error on the stream");
  }
}

std::string note_for(const std::vector<std::unique_ptr<OtherDevice>>& others) {
  std::string out = "checked against ";
  for (std::size_t i = 0; i < others.size(); ++i) out += (i ? " and " : "") + others[i]->label();
  if (others.size() == 1) out += " (the probe lists no other usable device)";
  return out;
}

void copy_host_to_buffer(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const auto mine_img = pattern_bytes(kSize, 11), other_img = pattern_bytes(kSize, 12),
             src = pattern_bytes(kSize, 13);
  DeviceBuffer mine = s.alloc(kSize);
  s.upload(mine, 0, mine_img);
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_buffer_t theirs = o->buffer(other_img);
    std::string what = "copy_host_to_buffer(this device's stream, a buffer of " + o->label() + ")";
    expect_rejected(s, api.copy_host_to_buffer(s.stream(), src.data(), theirs, 0, kSize), what);
    expect_clean_stream(s, s.stream(), what);
    if (o->read(theirs) != other_img) fail(what + " was rejected but wrote the buffer");
    what = "copy_host_to_buffer(a stream of " + o->label() + ", this device's buffer)";
    expect_rejected(s, api.copy_host_to_buffer(o->stream(), src.data(), mine.get(), 0, kSize), what);
    o->sync();
    if (s.download(mine, 0, kSize) != mine_img) fail(what + " was rejected but wrote the buffer");
  }
  env.note = note_for(others);
}

void copy_buffer_to_host(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const auto other_img = pattern_bytes(kSize, 21), host_img = pattern_bytes(kSize, 22);
  DeviceBuffer mine = s.alloc(kSize);
  s.upload(mine, 0, pattern_bytes(kSize, 23));
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_buffer_t theirs = o->buffer(other_img);
    auto host = host_img;
    std::string what = "copy_buffer_to_host(this device's stream, a buffer of " + o->label() + ")";
    expect_rejected(s, api.copy_buffer_to_host(s.stream(), theirs, 0, host.data(), kSize), what);
    expect_clean_stream(s, s.stream(), what);
    if (host != host_img) fail(what + " was rejected but wrote the host memory");
    what = "copy_buffer_to_host(a stream of " + o->label() + ", this device's buffer)";
    expect_rejected(s, api.copy_buffer_to_host(o->stream(), mine.get(), 0, host.data(), kSize), what);
    o->sync();
    if (host != host_img) fail(what + " was rejected but wrote the host memory");
  }
  env.note = note_for(others);
}

void copy_buffer(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const auto mine_img = pattern_bytes(kSize, 31), other_img = pattern_bytes(kSize, 32);
  DeviceBuffer mine = s.alloc(kSize), mine2 = s.alloc(kSize);
  s.upload(mine, 0, mine_img);
  s.upload(mine2, 0, mine_img);
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_buffer_t theirs = o->buffer(other_img), theirs2 = o->buffer(other_img);
    const std::string of = o->label();
    struct Case {
      plinth_stream_t stream;
      plinth_buffer_t src, dst;
      std::string what;
    };
    const Case cases[] = {
        {s.stream(), theirs, mine.get(),
         "copy_buffer(this device's stream, src of " + of + ", dst of this device)"},
        {s.stream(), mine.get(), theirs,
         "copy_buffer(this device's stream, src of this device, dst of " + of + ")"},
        {s.stream(), theirs, theirs2, "copy_buffer(this device's stream, src and dst of " + of + ")"},
        {o->stream(), mine.get(), mine2.get(),
         "copy_buffer(a stream of " + of + ", src and dst of this device)"},
    };
    for (const auto& c : cases) {
      expect_rejected(s, api.copy_buffer(c.stream, c.src, 0, c.dst, 0, kSize), c.what);
      expect_clean_stream(s, s.stream(), c.what);
      o->sync();
      if (s.download(mine, 0, kSize) != mine_img || s.download(mine2, 0, kSize) != mine_img ||
          o->read(theirs) != other_img || o->read(theirs2) != other_img) {
        fail(c.what + " was rejected but changed a buffer");
      }
    }
  }
  env.note = note_for(others);
}

bool has_timing(const Session& s) {
  return (s.props().features & PLINTH_FEATURE_TIMESTAMPS) != 0 && s.api().event_elapsed_ms != nullptr;
}

void event_record(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const uint32_t flags = has_timing(s) ? PLINTH_EVENT_FLAG_TIMING : 0;
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_event_t theirs = o->event(flags);
    const plinth_event_t recorded = o->event(flags);
    o->sync();
    s.check(api.event_record(recorded, o->stream()), o->label() + ": event_record");
    o->sync();
    std::string what = "event_record(an event of " + o->label() + ", this device's stream)";
    expect_rejected(s, api.event_record(theirs, s.stream()), what);
    expect_clean_stream(s, s.stream(), what);
    // Nothing changed: the event is still never recorded (complete; no timestamp).
    const plinth_status_t q = api.event_query(theirs);
    if (q != PLINTH_OK)
      fail("after the rejected " + what + ": event_query returned " + status_text(q) +
           ", want PLINTH_OK (never recorded)");
    if (flags != 0) {
      float ms = -1;
      const plinth_status_t st = api.event_elapsed_ms(recorded, theirs, &ms);
      if (st != PLINTH_ERROR_INVALID_ARGUMENT) {
        fail("after the rejected " + what + ": event_elapsed_ms to that event returned " + status_text(st) +
             ", want PLINTH_ERROR_INVALID_ARGUMENT (never recorded): the rejected call recorded it");
      }
    }
    // The other way round: this device's event on the other device's stream.
    const SessionEvent mine(s, 0);
    what = "event_record(this device's event, a stream of " + o->label() + ")";
    const plinth_status_t st = api.event_record(mine.get(), o->stream());
    const std::string message = s.last_error();
    if (st != PLINTH_ERROR_INVALID_ARGUMENT || message.empty()) {
      fail(what + ": got " + status_text(st) + (message.empty() ? " with no message" : "") +
           ", want PLINTH_ERROR_INVALID_ARGUMENT with a message (abi.h rule 8)");
    }
    o->sync();
  }
  env.note = note_for(others);
}

void stream_wait_event(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const auto img = pattern_bytes(kSize, 41);
  DeviceBuffer mine = s.alloc(kSize);
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_event_t theirs = o->event(0);
    s.check(api.event_record(theirs, o->stream()), o->label() + ": event_record");
    std::string what = "stream_wait_event(this device's stream, an event of " + o->label() + ")";
    expect_rejected(s, api.stream_wait_event(s.stream(), theirs), what);
    // The stream still runs work (no wait was enqueued that could block it).
    s.check(api.copy_host_to_buffer(s.stream(), img.data(), mine.get(), 0, kSize),
            "copy_host_to_buffer after " + what);
    expect_clean_stream(s, s.stream(), what);
    if (s.download(mine, 0, kSize) != img) fail("a copy after the rejected " + what + " did not run");
    const SessionEvent own(s, 0);
    s.check(api.event_record(own.get(), s.stream()), "event_record");
    what = "stream_wait_event(a stream of " + o->label() + ", this device's event)";
    const plinth_status_t st = api.stream_wait_event(o->stream(), own.get());
    const std::string message = s.last_error();
    s.sync();
    if (st != PLINTH_ERROR_INVALID_ARGUMENT || message.empty()) {
      fail(what + ": got " + status_text(st) + (message.empty() ? " with no message" : "") +
           ", want PLINTH_ERROR_INVALID_ARGUMENT with a message (abi.h rule 8)");
    }
    o->sync();
  }
  env.note = note_for(others);
}

void event_elapsed_ms(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  if (!has_timing(s)) throw Skipped("the device has no PLINTH_FEATURE_TIMESTAMPS (no timing events)");
  const SessionEvent timing(s, PLINTH_EVENT_FLAG_TIMING);
  const plinth_event_t mine = timing.get();
  s.check(api.event_record(mine, s.stream()), "event_record");
  s.sync();
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_event_t theirs = o->event(PLINTH_EVENT_FLAG_TIMING);
    s.check(api.event_record(theirs, o->stream()), o->label() + ": event_record");
    o->sync();
    for (bool mine_first : {true, false}) {
      float ms = 12345.0f;
      const std::string what = std::string("event_elapsed_ms(") +
                               (mine_first ? "this device's event, an event of " + o->label()
                                           : "an event of " + o->label() + ", this device's event") +
                               ")";
      expect_rejected(
          s, mine_first ? api.event_elapsed_ms(mine, theirs, &ms) : api.event_elapsed_ms(theirs, mine, &ms),
          what);
      if (ms != 12345.0f) fail(what + " was rejected but wrote *out_ms");
    }
  }
  env.note = note_for(others);
}

void op_launch(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const auto mine_img = pattern_bytes(kSize, 51), other_img = pattern_bytes(kSize, 52);
  DeviceBuffer in = s.alloc(kSize), out = s.alloc(kSize);
  s.upload(in, 0, mine_img);
  s.upload(out, 0, mine_img);
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_buffer_t theirs_in = o->buffer(other_img), theirs_out = o->buffer(other_img);
    const std::string of = o->label();
    struct Case {
      plinth_stream_t stream;
      plinth_buffer_t x, y;
      std::string what;
    };
    const Case cases[] = {
        {s.stream(), theirs_in, out.get(),
         "op_launch(COPY) on this device's stream with input x in a buffer of " + of},
        {s.stream(), in.get(), theirs_out,
         "op_launch(COPY) on this device's stream with output y in a buffer of " + of},
        {o->stream(), in.get(), out.get(),
         "op_launch(COPY) on a stream of " + of + " with x and y of this device"},
        {o->stream(), theirs_in, out.get(),
         "op_launch(COPY) on a stream of " + of + " with y of this device"},
    };
    for (const auto& c : cases) {
      const auto x = f32_vector(c.x, kSize / 4), y = f32_vector(c.y, kSize / 4);
      const plinth_tensor_t* ins[] = {&x};
      const plinth_tensor_t* outs[] = {&y};
      auto call = sized<plinth_op_call_t>();
      call.op = PLINTH_OP_COPY;
      call.inputs = ins;
      call.outputs = outs;
      call.num_inputs = 1;
      call.num_outputs = 1;
      expect_rejected(s, api.op_launch(c.stream, &call), c.what);
      expect_clean_stream(s, s.stream(), c.what);
      o->sync();
      if (s.download(out, 0, kSize) != mine_img || o->read(theirs_out) != other_img) {
        fail(c.what + " was rejected but wrote its output");
      }
    }
  }
  env.note = note_for(others);
}

void graph_launch(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  if (api.graph_begin_capture == nullptr)
    throw Skipped("the plugin has no graph entries (the core emulates graphs)");
  const auto img = pattern_bytes(kSize, 61);
  auto others = other_devices(s);
  for (auto& o : others) {
    const plinth_buffer_t a = o->buffer(img), b = o->buffer(img);
    s.check(api.graph_begin_capture(o->stream()), o->label() + ": graph_begin_capture");
    const plinth_status_t copied = api.copy_buffer(o->stream(), a, 0, b, 0, kSize);
    plinth_graph_t graph = nullptr;
    const plinth_status_t ended = api.graph_end_capture(o->stream(), &graph);
    if (copied != PLINTH_OK || ended != PLINTH_OK || graph == nullptr) {
      if (graph != nullptr) api.graph_destroy(graph);
      throw Skipped(o->label() + ": a graph of one copy_buffer could not be captured");
    }
    const std::string what = "graph_launch(a graph of " + o->label() + ", this device's stream)";
    const plinth_status_t st = api.graph_launch(graph, s.stream());
    const std::string message = s.last_error();
    s.api().stream_synchronize(s.stream());
    api.graph_destroy(graph);
    if (st != PLINTH_ERROR_INVALID_ARGUMENT || message.empty()) {
      fail(what + ": got " + status_text(st) + (message.empty() ? " with no message" : "") +
           ", want PLINTH_ERROR_INVALID_ARGUMENT with a message (abi.h rule 8)");
    }
  }
  env.note = note_for(others);
}

}  // namespace

SuiteDef multi_device_suite() {
  SuiteDef s{"multi_device", true, {}};
  s.tests = {
      {"multi_device.copy_host_to_buffer", "", copy_host_to_buffer},
      {"multi_device.copy_buffer_to_host", "", copy_buffer_to_host},
      {"multi_device.copy_buffer", "", copy_buffer},
      {"multi_device.event_record", "", event_record},
      {"multi_device.stream_wait_event", "", stream_wait_event},
      {"multi_device.event_elapsed_ms", "", event_elapsed_ms},
      {"multi_device.op_launch", "", op_launch},
      {"multi_device.graph_launch", "", graph_launch},
  };
  return s;
}

}  // namespace plinth::cts
