// Randomized stream and event ordering. A seeded schedule of copies, uploads, downloads and FILL/COPY
// ops of random sizes goes to several streams in random order; wherever two streams touch the same
// buffer, the later one waits for an event recorded on the earlier one (stream_wait_event), and the
// host checks downloads after waiting for their event (event_synchronize or polling event_query).
// The CTS keeps a host model of every buffer, so each download has one right answer. A plugin whose
// cross-stream waits or event completion do not order work produces stale bytes — when the race
// happens to go wrong in this run: detection is probabilistic (docs/cts.md gives the measured rate;
// --repeat raises it).
#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>

#include "harness.hpp"

namespace plinth::cts {
namespace {

constexpr int kStreams = 4;
constexpr int kBuffers = 6;
constexpr uint64_t kBufferSize = uint64_t{1} << 20;
constexpr int kSteps = 240;

// Contents made of normal f32 values (small integers), so that an f32 COPY op moves them bit-exactly
// on any device (no NaN payloads to canonicalize, no denormals to flush).
std::vector<std::byte> float_pattern(uint64_t size, uint64_t seed) {
  std::vector<std::byte> out(size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;
  for (uint64_t k = 0; k + 4 <= size; k += 4) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const float v = static_cast<float>(static_cast<int64_t>(x % 2000001) - 1000000);
    std::memcpy(out.data() + k, &v, 4);
  }
  return out;
}

// A FILL (no input) or COPY (one input) call with one output; the pointer arrays are borrowed.
plinth_op_call_t one_output_call(plinth_op_t op, const plinth_tensor_t* const* ins,
                                 const plinth_tensor_t* const* outs, const void* params) {
  auto call = sized<plinth_op_call_t>();
  call.op = op;
  call.inputs = ins;
  call.num_inputs = ins != nullptr ? 1 : 0;
  call.outputs = outs;
  call.num_outputs = 1;
  call.params = params;
  return call;
}

struct Owned {
  const plinth_plugin_api_t& api;
  std::vector<plinth_stream_t> streams;
  std::vector<plinth_event_t> events;
  ~Owned() {
    for (auto s : streams) api.stream_synchronize(s);
    for (auto e : events) api.event_destroy(e);
    for (auto s : streams) api.stream_destroy(s);
  }
};

// A download whose bytes the host checks once its event has completed.
struct PendingRead {
  int step = 0;
  int stream = 0;
  int buffer = 0;
  uint64_t offset = 0;
  std::vector<std::byte> want;
  std::unique_ptr<std::byte[]> got;  // the plugin writes it until the copy has finished
  plinth_event_t event = nullptr;
};

class Schedule {
 public:
  Schedule(TestEnv& env, Owned& owned) : env_(env), s_(env.s()), api_(s_.api()), owned_(owned) {
    for (int i = 0; i < kStreams; ++i) {
      plinth_stream_t st = nullptr;
      s_.check(api_.stream_create(s_.device(), 0, &st), "stream_create");
      owned_.streams.push_back(st);
    }
    for (int b = 0; b < kBuffers; ++b) {
      buffers_.push_back(s_.alloc(kBufferSize));
      model_.push_back(float_pattern(kBufferSize, 100 + b));
      s_.upload(buffers_.back(), 0, model_.back());
      last_stream_.push_back(-1);
    }
    const plinth_tensor_t t = f32_vector(buffers_[0].get(), 16);
    const plinth_tensor_t* tensors[] = {&t};
    const auto params = sized<plinth_fill_params_t>();
    const auto fill = one_output_call(PLINTH_OP_FILL, nullptr, tensors, &params);
    uint32_t supported = 0;
    s_.check(api_.op_supports(s_.device(), &fill, &supported), "op_supports(FILL f32)");
    have_fill_ = supported != 0;
    const auto copy = one_output_call(PLINTH_OP_COPY, tensors, tensors, nullptr);
    s_.check(api_.op_supports(s_.device(), &copy, &supported), "op_supports(COPY f32)");
    have_copy_ = supported != 0;
  }

  // Work still queued writes host memory and buffers owned here: wait for it before they go, also
  // when the test failed half way.
  ~Schedule() {
    for (auto st : owned_.streams) api_.stream_synchronize(st);
    api_.stream_synchronize(s_.stream());
  }
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;

  void run() {
    for (step_ = 0; step_ < kSteps; ++step_) {
      const int what = static_cast<int>(env_.rng() % 100);
      if (what < 18) {
        upload();
      } else if (what < 44) {
        copy_buffer();
      } else if (what < 56 && have_fill_) {
        fill();
      } else if (what < 66 && have_copy_) {
        copy_op();
      } else if (what < 88) {
        download();
      } else {
        check_one();
      }
    }
    while (!pending_.empty()) check_one();
    for (int b = 0; b < kBuffers; ++b) {
      // Final state: every buffer as the model says, read through the session stream after it
      // waits for the last stream that touched the buffer.
      order_after(-1, b);
      if (s_.download(buffers_[b], 0, kBufferSize) != model_[b]) {
        const auto got = s_.download(buffers_[b], 0, kBufferSize);
        const auto at = std::mismatch(got.begin(), got.end(), model_[b].begin()).first - got.begin();
        fail(prefix() + "final contents of buffer " + std::to_string(b) + " differ from the model at byte " +
             std::to_string(at) + " (work on different streams ran out of order)");
      }
    }
    env_.note = "seed " + std::to_string(env_.options->seed) + ": " + std::to_string(kSteps) + " steps on " +
                std::to_string(kStreams) + " streams, " + std::to_string(waits_) + " cross-stream waits, " +
                std::to_string(checks_) + " host checks after event waits";
  }

 private:
  std::string prefix() const {
    return "seed " + std::to_string(env_.options->seed) + ", step " + std::to_string(step_) + ": ";
  }

  uint64_t random_size(uint64_t limit) {
    // Log-uniform from 4 bytes to the limit, in multiples of 4 (f32 ops use the same regions).
    const int bits = 2 + static_cast<int>(env_.rng() % 19);  // 4 B .. 1 MiB
    uint64_t size = (uint64_t{1} << bits) + (env_.rng() % (uint64_t{1} << bits));
    size = std::max<uint64_t>(4, std::min(size, limit) & ~uint64_t{3});
    return size;
  }
  uint64_t random_offset(uint64_t size) { return (env_.rng() % ((kBufferSize - size) / 4 + 1)) * 4; }
  int random_stream() { return static_cast<int>(env_.rng() % kStreams); }
  int random_buffer() { return static_cast<int>(env_.rng() % kBuffers); }
  plinth_stream_t stream(int i) const { return i < 0 ? s_.stream() : owned_.streams[i]; }

  plinth_event_t new_event() {
    plinth_event_t e = nullptr;
    s_.check(api_.event_create(s_.device(), 0, &e), "event_create");
    owned_.events.push_back(e);
    return e;
  }

  // An event recorded now on stream `i` (re-recorded from a small pool: later waits see the new
  // record, waits already enqueued keep the old one).
  plinth_event_t record_on(int i) {
    auto& pool = event_pool_[i + 1];
    plinth_event_t e;
    if (pool.size() < 3) {
      e = new_event();
    } else {
      e = pool.front();
      pool.pop_front();
    }
    pool.push_back(e);
    s_.check(api_.event_record(e, stream(i)), prefix() + "event_record");
    return e;
  }

  // Orders stream `i` after the last other stream that touched buffer `b`.
  void order_after(int i, int b) {
    const int last = last_stream_[b];
    if (last != i) {
      const plinth_event_t e = record_on(last);
      s_.check(api_.stream_wait_event(stream(i), e), prefix() + "stream_wait_event");
      ++waits_;
    }
    last_stream_[b] = i;
  }

  void upload() {
    const int i = random_stream(), b = random_buffer();
    const uint64_t size = random_size(kBufferSize), offset = random_offset(size);
    // The source is borrowed until the copy has finished: keep it until the end of the test.
    sources_.push_back(float_pattern(size, env_.rng()));
    const auto& src = sources_.back();
    order_after(i, b);
    s_.check(api_.copy_host_to_buffer(stream(i), src.data(), buffers_[b].get(), offset, size),
             prefix() + "copy_host_to_buffer");
    std::memcpy(model_[b].data() + offset, src.data(), size);
  }

  void copy_buffer() {
    const int i = random_stream(), from = random_buffer();
    const int to = (from + 1 + static_cast<int>(env_.rng() % (kBuffers - 1))) % kBuffers;
    const uint64_t size = random_size(kBufferSize);
    const uint64_t src_offset = random_offset(size), dst_offset = random_offset(size);
    order_after(i, from);
    order_after(i, to);
    s_.check(
        api_.copy_buffer(stream(i), buffers_[from].get(), src_offset, buffers_[to].get(), dst_offset, size),
        prefix() + "copy_buffer");
    std::memcpy(model_[to].data() + dst_offset, model_[from].data() + src_offset, size);
  }

  void fill() {
    const int i = random_stream(), b = random_buffer();
    const uint64_t size = random_size(kBufferSize), offset = random_offset(size);
    const float value = static_cast<float>(env_.rng() % 2000) * 0.5f - 500.0f;
    auto params = sized<plinth_fill_params_t>();
    params.value = value;
    plinth_tensor_t t = f32_vector(buffers_[b].get(), static_cast<int64_t>(size / 4), offset);
    const plinth_tensor_t* outs[] = {&t};
    const auto call = one_output_call(PLINTH_OP_FILL, nullptr, outs, &params);
    order_after(i, b);
    s_.check(api_.op_launch(stream(i), &call), prefix() + "op_launch(FILL)");
    for (uint64_t k = 0; k < size; k += 4) std::memcpy(model_[b].data() + offset + k, &value, 4);
  }

  void copy_op() {
    const int i = random_stream(), from = random_buffer();
    const int to = (from + 1 + static_cast<int>(env_.rng() % (kBuffers - 1))) % kBuffers;
    const uint64_t size = random_size(kBufferSize);
    const uint64_t src_offset = random_offset(size), dst_offset = random_offset(size);
    plinth_tensor_t x = f32_vector(buffers_[from].get(), static_cast<int64_t>(size / 4), src_offset);
    plinth_tensor_t y = f32_vector(buffers_[to].get(), static_cast<int64_t>(size / 4), dst_offset);
    const plinth_tensor_t* ins[] = {&x};
    const plinth_tensor_t* outs[] = {&y};
    const auto call = one_output_call(PLINTH_OP_COPY, ins, outs, nullptr);
    order_after(i, from);
    order_after(i, to);
    s_.check(api_.op_launch(stream(i), &call), prefix() + "op_launch(COPY)");
    std::memcpy(model_[to].data() + dst_offset, model_[from].data() + src_offset, size);
  }

  void download() {
    const int i = random_stream(), b = random_buffer();
    const uint64_t size = random_size(kBufferSize / 4), offset = random_offset(size);
    PendingRead r;
    r.step = step_;
    r.stream = i;
    r.buffer = b;
    r.offset = offset;
    r.want.assign(model_[b].begin() + static_cast<std::ptrdiff_t>(offset),
                  model_[b].begin() + static_cast<std::ptrdiff_t>(offset + size));
    r.got = std::make_unique<std::byte[]>(size);
    std::memset(r.got.get(), 0xEE, size);
    order_after(i, b);
    s_.check(api_.copy_buffer_to_host(stream(i), buffers_[b].get(), offset, r.got.get(), size),
             prefix() + "copy_buffer_to_host");
    r.event = new_event();
    s_.check(api_.event_record(r.event, stream(i)), prefix() + "event_record");
    pending_.push_back(std::move(r));
    if (pending_.size() > 8) check_one();
  }

  // Waits for one pending download's event from the host and compares its bytes.
  void check_one() {
    if (pending_.empty()) return;
    const std::size_t pick = env_.rng() % pending_.size();
    // Checked reads stay alive to the end: a plugin whose event completed early still writes them.
    checked_.push_back(std::move(pending_[pick]));
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(pick));
    PendingRead& r = checked_.back();
    const bool poll = env_.rng() % 2 == 0;
    if (poll) {
      for (;;) {
        const plinth_status_t st = api_.event_query(r.event);
        if (st == PLINTH_OK) break;
        if (st != PLINTH_ERROR_NOT_READY) s_.check(st, prefix() + "event_query");
      }
    } else {
      s_.check(api_.event_synchronize(r.event), prefix() + "event_synchronize");
    }
    ++checks_;
    if (std::memcmp(r.got.get(), r.want.data(), r.want.size()) != 0) {
      const auto at = std::mismatch(r.want.begin(), r.want.end(), r.got.get()).first - r.want.begin();
      fail(prefix() + "the download of step " + std::to_string(r.step) + " (buffer " +
           std::to_string(r.buffer) + " bytes [" + std::to_string(r.offset) + ", +" +
           std::to_string(r.want.size()) + ") on stream " + std::to_string(r.stream) + ") differs at byte " +
           std::to_string(at) + " after " + (poll ? "event_query returned OK" : "event_synchronize") +
           " for an event recorded after it: " +
           (std::to_integer<unsigned>(r.got[static_cast<std::size_t>(at)]) == 0xEE
                ? "the copy had not run yet (the event completed early)"
                : "stale bytes (a cross-stream wait did not order the work)"));
    }
  }

  TestEnv& env_;
  const Session& s_;
  const plinth_plugin_api_t& api_;
  Owned& owned_;
  std::vector<DeviceBuffer> buffers_;
  std::vector<std::vector<std::byte>> model_;
  std::vector<int> last_stream_;  // per buffer: the stream that touched it last (-1: the session's)
  std::deque<std::vector<std::byte>> sources_;
  std::deque<plinth_event_t> event_pool_[kStreams + 1];
  std::vector<PendingRead> pending_;
  std::deque<PendingRead> checked_;
  bool have_fill_ = false, have_copy_ = false;
  int step_ = 0, waits_ = 0, checks_ = 0;
};

void interleaved(TestEnv& env) {
  Owned owned{env.s().api(), {}, {}};
  Schedule schedule(env, owned);
  schedule.run();
}

}  // namespace

SuiteDef stress_suite() {
  SuiteDef s{"stress", true, {}};
  s.tests = {{"stress.interleaved", "", interleaved}};
  return s;
}

}  // namespace plinth::cts
