// FinishCounter: counts finishes reported from engine threads, so a test thread can wait (bounded)
// until all of its requests are done.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace plinth::scheduler::testing {

class FinishCounter {
 public:
  void add() {
    std::lock_guard lock(m_);
    ++n_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::steady_clock::duration timeout = std::chrono::seconds(60)) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return n_ >= n; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_ = 0;
};

}  // namespace plinth::scheduler::testing
