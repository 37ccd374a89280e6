// A test plugin for the CTS stress suite: the template plugin (plugins/template) with each stream's
// work executed later, on a worker thread of its own, in submission order, as a real device does.
// Events complete when the worker reaches their record; stream_wait_event enqueues a wait for the
// event's record. Races between streams are therefore real. Only the CTS tests build it
// (tests/cts/CMakeLists.txt); it is no example to copy.
//
// The template's source is compiled into this file, so buffers, properties, memory accounting and
// the kernels are the template's own; this file adds only the streams, the events and the defects.
//
// One build. PLINTH_MUTANT, read at plinth_plugin_init, selects at most one deliberate ordering
// defect (unset or empty: none, a correct plugin; any other value fails the init with
// INVALID_ARGUMENT, so a typo cannot pass as a correct run). The ids, for mutation harnesses, with
// the CTS tests that catch them (share of single runs of the suite, measured on two shared cores):
//   async.wait_ignored       stream_wait_event enqueues nothing: a consumer stream does not wait for
//                            its producer (stress.interleaved 48/50; streams.cross_stream_wait);
//   async.record_early       event_record completes the event at once, before the work recorded
//                            ahead of it has run (stress.interleaved 50/50; streams.host_waits);
//   async.sync_early         stream_synchronize returns once the worker has taken the last work off
//                            the queue, not once it has run it (streams.* 20/20: elapsed_time,
//                            event_query, cross_stream_wait; stress.interleaved only 9/50);
//   async.query_early        event_query reports an event complete once its record is queued, not
//                            once the worker has reached it (stress.interleaved 47/50, its polled
//                            checks; no streams test);
//   async.copy_to_host_early copy_buffer_to_host reads the buffer at submission, on the caller's
//                            thread, out of stream order (stress.interleaved 46/50; streams.host_waits).
// tests/cts/cts_stress_test.cpp checks that --repeat 20 catches each (sync_early: of streams.*).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

// The template, with its entry point renamed: this file exports the real one.
#define plinth_plugin_init plinth_template_plugin_init
#include "template_plugin.cpp"
#undef plinth_plugin_init

namespace {

enum class Mutant { kNone, kWaitIgnored, kRecordEarly, kSyncEarly, kQueryEarly, kCopyToHostEarly };

Mutant mutant_from_environment() {
  const char* value = std::getenv("PLINTH_MUTANT");
  const std::string_view id = value != nullptr ? value : "";
  constexpr std::pair<std::string_view, Mutant> kIds[] = {
      {"", Mutant::kNone},
      {"async.wait_ignored", Mutant::kWaitIgnored},
      {"async.record_early", Mutant::kRecordEarly},
      {"async.sync_early", Mutant::kSyncEarly},
      {"async.query_early", Mutant::kQueryEarly},
      {"async.copy_to_host_early", Mutant::kCopyToHostEarly},
  };
  for (const auto& [name, mutant] : kIds) {
    if (id == name) return mutant;
  }
  sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT,
            "PLINTH_MUTANT='" + std::string(id) + "' is no mutant of this plugin");
}

// Runs a stream's work on a thread of its own, in submission order.
class Worker {
 public:
  explicit Worker(bool sync_early) : sync_early_(sync_early), thread_([this] { loop(); }) {}
  ~Worker() {  // finishes the queue first: destroying a stream waits for its work
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void submit(std::function<void()> work) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
      ++submitted_;
    }
    cv_.notify_all();
  }
  // Waits until everything submitted before the call has run (async.sync_early: has been dequeued).
  void wait_idle() {
    std::unique_lock lock(mutex_);
    const uint64_t target = submitted_;
    cv_.wait(lock, [&] { return (sync_early_ ? taken_ : done_) >= target; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ with nothing left
      auto work = std::move(queue_.front());
      queue_.pop_front();
      ++taken_;
      cv_.notify_all();
      lock.unlock();
      work();
      lock.lock();
      ++done_;
      cv_.notify_all();
    }
  }

  const bool sync_early_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  uint64_t submitted_ = 0, taken_ = 0, done_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

struct AsyncStream {
  explicit AsyncStream(bool sync_early) : worker(sync_early) {}
  std::mutex submit;  // a submission and what it reads of an event enter the queue together
  ::Stream base;      // the template's stream, used only by the worker
  Worker worker;      // last: destroyed (and drained) first
};

// An event's records, shared with the work enqueued for it (which outlives event_destroy).
struct EventState {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t recorded = 0;   // generation of the latest record
  uint64_t completed = 0;  // highest generation whose record the worker has reached
  Clock::time_point time{};

  void complete(uint64_t generation) {
    {
      std::lock_guard lock(mutex);
      if (generation > completed) {
        completed = generation;
        time = Clock::now();
      }
    }
    cv.notify_all();
  }
  void wait(uint64_t generation) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return completed >= generation; });
  }
  uint64_t latest() {
    std::lock_guard lock(mutex);
    return recorded;
  }
  // The time of the latest record once the worker has reached it.
  std::optional<Clock::time_point> done() {
    std::lock_guard lock(mutex);
    return completed >= recorded ? std::optional(time) : std::nullopt;
  }
};

struct AsyncEvent {
  std::shared_ptr<EventState> state = std::make_shared<EventState>();
};

// The template's device (properties, memory, buffers, kernels) with asynchronous streams and events.
class AsyncDevice : public ::Device {
 public:
  AsyncDevice(std::atomic<uint64_t>& used, Mutant mutant) : ::Device(used), mutant_(mutant) {}

  std::unique_ptr<AsyncStream> create_stream() {
    return std::make_unique<AsyncStream>(mutant_ == Mutant::kSyncEarly);
  }
  std::unique_ptr<AsyncEvent> create_event(bool) { return std::make_unique<AsyncEvent>(); }

  void copy_to_buffer(AsyncStream& s, const void* src, Buffer& dst, uint64_t offset, uint64_t size) {
    enqueue(s, [=, this, &s, &dst] { ::Device::copy_to_buffer(s.base, src, dst, offset, size); });
  }
  void copy_to_host(AsyncStream& s, Buffer& src, uint64_t offset, void* dst, uint64_t size) {
    if (mutant_ == Mutant::kCopyToHostEarly) return ::Device::copy_to_host(s.base, src, offset, dst, size);
    enqueue(s, [=, this, &s, &src] { ::Device::copy_to_host(s.base, src, offset, dst, size); });
  }
  void copy_buffer(AsyncStream& s, Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
                   uint64_t size) {
    enqueue(s, [=, this, &s, &src, &dst] {
      ::Device::copy_buffer(s.base, src, src_offset, dst, dst_offset, size);
    });
  }
  void launch(AsyncStream& s, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
    enqueue(s, [=, this, &s] { ::Device::launch(s.base, call, buffers); });
  }

  // No work of this plugin fails while it runs, so there is never an asynchronous error to return.
  void synchronize(AsyncStream& s) { s.worker.wait_idle(); }

  void record(AsyncEvent& e, AsyncStream& s) {
    std::lock_guard order(s.submit);
    std::shared_ptr<EventState> state = e.state;
    uint64_t generation;
    {
      std::lock_guard lock(state->mutex);
      generation = ++state->recorded;
    }
    if (mutant_ == Mutant::kRecordEarly) return state->complete(generation);
    s.worker.submit([state, generation] { state->complete(generation); });
  }
  void wait(AsyncStream& s, AsyncEvent& e) {
    if (mutant_ == Mutant::kWaitIgnored) return;
    std::lock_guard order(s.submit);
    std::shared_ptr<EventState> state = e.state;
    s.worker.submit([state, generation = state->latest()] { state->wait(generation); });
  }
  void synchronize(AsyncEvent& e) { e.state->wait(e.state->latest()); }
  bool query(AsyncEvent& e) { return mutant_ == Mutant::kQueryEarly || e.state->done(); }
  float elapsed_ms(AsyncEvent& start, AsyncEvent& end) {
    const auto t0 = start.state->done(), t1 = end.state->done();
    if (!t0 || !t1) sdk::fail(PLINTH_ERROR_NOT_READY, "an event has not completed yet");
    return std::chrono::duration<float, std::milli>(*t1 - *t0).count();
  }

 private:
  void enqueue(AsyncStream& s, std::function<void()> work) {
    std::lock_guard order(s.submit);
    s.worker.submit(std::move(work));
  }

  const Mutant mutant_;
};

struct AsyncPlugin {
  static constexpr const char* kName = "async";
  static constexpr const char* kVersion = "0.2.0";
  using Device = AsyncDevice;
  std::vector<sdk::ProbeInfo> probe() const { return base.probe(); }
  std::unique_ptr<Device> open(uint32_t index) { return std::make_unique<Device>(base.used_[index], mutant); }
  TemplatePlugin base;  // the probe list and one memory budget per index
  const Mutant mutant = mutant_from_environment();
};

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return sdk::plugin_init<AsyncPlugin>(host, out_api);
}
