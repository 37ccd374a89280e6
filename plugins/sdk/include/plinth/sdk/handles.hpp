// A handle table: owns plugin objects and hands out opaque ABI handles that are checked on every
// use, so a stale or foreign handle is an INVALID_ARGUMENT instead of a crash.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "plinth/sdk/status.hpp"

namespace plinth::sdk {

// Handle is an opaque pointer type from abi.h (plinth_buffer_t, ...); T the plugin's object.
template <class Handle, class T>
class HandleTable {
 public:
  explicit HandleTable(const char* kind) : kind_(kind) {}

  // Takes ownership of `object` and returns its handle.
  Handle insert(std::unique_ptr<T> object) {
    std::lock_guard lock(mutex_);
    const void* key = object.get();
    // The handle is read back from the stored entry, not kept from before the move: GCC 12 cannot
    // see that a fresh address never collides and warns (use-after-free) about the other form.
    const auto it = objects_.emplace(key, std::move(object)).first;
    return reinterpret_cast<Handle>(it->second.get());
  }

  // The object behind `handle`; INVALID_ARGUMENT if it is NULL or not live. The reference stays valid
  // until the handle is erased (the host must not destroy objects another thread still uses).
  T& get(Handle handle) const {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(static_cast<const void*>(handle));
    if (it == objects_.end()) {
      fail(PLINTH_ERROR_INVALID_ARGUMENT,
           std::string(handle == nullptr ? "NULL " : "unknown or destroyed ") + kind_ + " handle");
    }
    return *it->second;
  }

  // Removes and returns the object; INVALID_ARGUMENT if `handle` is not live.
  std::unique_ptr<T> erase(Handle handle) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(static_cast<const void*>(handle));
    if (it == objects_.end()) {
      fail(PLINTH_ERROR_INVALID_ARGUMENT,
           std::string(handle == nullptr ? "NULL " : "unknown or destroyed ") + kind_ + " handle");
    }
    auto object = std::move(it->second);
    objects_.erase(it);
    return object;
  }

  // Removes every object for which pred(object) holds (used to reclaim what a closed device leaked).
  template <class Pred>
  std::vector<std::unique_ptr<T>> erase_if(Pred pred) {
    std::lock_guard lock(mutex_);
    std::vector<std::unique_ptr<T>> out;
    for (auto it = objects_.begin(); it != objects_.end();) {
      if (pred(*it->second)) {
        out.push_back(std::move(it->second));
        it = objects_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return objects_.size();
  }

 private:
  const char* kind_;
  mutable std::mutex mutex_;
  std::unordered_map<const void*, std::unique_ptr<T>> objects_;
};

}  // namespace plinth::sdk
