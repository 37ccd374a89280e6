// Memory: sizes, alignment, offsets, range checks, huge allocations, many buffers, mapping.
#include <algorithm>
#include <cstring>

#include "harness.hpp"

namespace plinth::cts {
namespace {

plinth_status_t try_alloc(const Session& s, uint64_t size, uint32_t kind, uint64_t alignment, plinth_buffer_t* out) {
  auto desc = sized<plinth_buffer_desc_t>();
  desc.size = size;
  desc.memory_kind = kind;
  desc.alignment = alignment;
  *out = nullptr;
  return s.api().buffer_alloc(s.device(), &desc, out);
}

void sizes(TestEnv& env) {
  const auto& s = env.s();
  const uint64_t cap = std::min<uint64_t>(s.props().max_allocation, 64ull << 20);
  for (uint64_t size : {1ull, 3ull, 4ull, 7ull, 33ull, 64ull, 257ull, 4095ull, 4096ull, 65537ull, 1ull << 20, (16ull << 20) + 3, 64ull << 20}) {
    if (size > cap) continue;
    auto buffer = s.alloc(size);
    const auto data = pattern_bytes(size, size);
    s.upload(buffer, 0, data);
    const auto back = s.download(buffer, 0, size);
    if (back != data) {
      const auto diff = std::mismatch(back.begin(), back.end(), data.begin()).first - back.begin();
      fail("buffer of " + std::to_string(size) + " bytes: byte " + std::to_string(diff) + " read back differs from what was written");
    }
  }
}

void alignment(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  const bool unified = (s.props().features & PLINTH_FEATURE_UNIFIED_MEMORY) != 0;
  std::string checked;
  for (uint64_t align : {0ull, 1ull, 16ull, 256ull, 4096ull, 65536ull}) {
    plinth_buffer_t b = nullptr;
    s.check(try_alloc(s, 100, PLINTH_MEMORY_DEVICE, align, &b), "buffer_alloc(100 bytes, alignment " + std::to_string(align) + ")");
    if (b == nullptr) fail("buffer_alloc returned OK but a NULL handle");
    DeviceBuffer owned(&api, b, 100);
    if (unified && api.buffer_map) {
      void* ptr = nullptr;
      s.check(api.buffer_map(b, 0, 100, &ptr), "buffer_map");
      const uint64_t want = std::max<uint64_t>(align, s.props().min_alignment);
      const auto addr = reinterpret_cast<uintptr_t>(ptr);
      api.buffer_unmap(b);
      if (addr % want != 0) fail("buffer with requested alignment " + std::to_string(align) + " is mapped at an address aligned only to " + std::to_string(addr & (~addr + 1)) + " (want " + std::to_string(want) + ")");
      checked = "addresses checked through buffer_map";
    }
  }
  for (uint64_t bad : {3ull, 48ull}) {
    plinth_buffer_t b = nullptr;
    const plinth_status_t st = try_alloc(s, 100, PLINTH_MEMORY_DEVICE, bad, &b);
    if (st == PLINTH_OK && b) api.buffer_free(b);
    s.expect_status(st, PLINTH_ERROR_INVALID_ARGUMENT, "buffer_alloc with alignment " + std::to_string(bad) + " (not a power of two)");
  }
  env.note = checked.empty() ? "device memory is not mappable: alignments requested but not observable" : checked;
}

void invalid_requests(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  plinth_buffer_t b = nullptr;
  plinth_status_t st = try_alloc(s, 0, PLINTH_MEMORY_DEVICE, 0, &b);
  if (st == PLINTH_OK && b) api.buffer_free(b);
  s.expect_status(st, PLINTH_ERROR_INVALID_ARGUMENT, "buffer_alloc(size 0)");
  st = api.buffer_alloc(s.device(), nullptr, &b);
  s.expect_status(st, PLINTH_ERROR_INVALID_ARGUMENT, "buffer_alloc(NULL desc)");
  auto desc = sized<plinth_buffer_desc_t>();
  desc.size = 16;
  desc.struct_size = 4;
  st = api.buffer_alloc(s.device(), &desc, &b);
  if (st == PLINTH_OK && b) api.buffer_free(b);
  s.expect_status(st, PLINTH_ERROR_INVALID_ARGUMENT, "buffer_alloc with desc.struct_size 4");
  st = try_alloc(s, 16, 77, 0, &b);
  if (st == PLINTH_OK && b) api.buffer_free(b);
  // abi.h buffer_alloc: "UNSUPPORTED: desc->memory_kind is unknown" (INVALID_ARGUMENT is not allowed).
  s.expect_status(st, PLINTH_ERROR_UNSUPPORTED, "buffer_alloc with memory_kind 77");
  // A memory kind the device does not advertise is UNSUPPORTED; one it advertises must work.
  for (auto [kind, feature, name] : {std::tuple{PLINTH_MEMORY_HOST_PINNED, PLINTH_FEATURE_HOST_PINNED, "HOST_PINNED"},
                                     std::tuple{PLINTH_MEMORY_SHARED, PLINTH_FEATURE_SHARED_MEMORY, "SHARED"}}) {
    st = try_alloc(s, 4096, static_cast<uint32_t>(kind), 0, &b);
    if (st == PLINTH_OK && b) api.buffer_free(b);
    if (s.props().features & feature) {
      s.check(st, std::string("buffer_alloc(") + name + ") although the feature bit is set");
    } else if (st != PLINTH_ERROR_UNSUPPORTED) {
      fail(std::string("buffer_alloc(") + name + ") without the feature bit: got " + status_text(st) + ", want PLINTH_ERROR_UNSUPPORTED");
    }
  }
}

void offsets(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr uint64_t kSize = 1000;
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  std::vector<std::byte> mirror = pattern_bytes(kSize, 1);
  s.upload(a, 0, mirror);
  for (auto [off, len] : {std::pair{0ull, 1ull}, {1ull, 7ull}, {3ull, 33ull}, {257ull, 257ull}, {999ull, 1ull}, {500ull, 500ull}}) {
    const auto data = pattern_bytes(len, off * 31 + len);
    s.upload(a, off, data);
    std::copy(data.begin(), data.end(), mirror.begin() + static_cast<std::ptrdiff_t>(off));
    const auto part = s.download(a, off, len);
    if (part != data) fail("copy at offset " + std::to_string(off) + " size " + std::to_string(len) + " reads back differently");
  }
  if (s.download(a, 0, kSize) != mirror) fail("writes at offsets changed bytes outside their range");
  // Buffer to buffer at offsets, and within one buffer without overlap.
  s.upload(b, 0, pattern_bytes(kSize, 2));
  std::vector<std::byte> b_mirror = pattern_bytes(kSize, 2);
  s.check(api.copy_buffer(s.stream(), a.get(), 5, b.get(), 301, 123), "copy_buffer(a+5 -> b+301, 123 bytes)");
  s.sync();
  std::copy(mirror.begin() + 5, mirror.begin() + 128, b_mirror.begin() + 301);
  if (s.download(b, 0, kSize) != b_mirror) fail("copy_buffer(a+5 -> b+301, 123 bytes) produced wrong bytes");
  s.check(api.copy_buffer(s.stream(), a.get(), 0, a.get(), 600, 300), "copy_buffer within one buffer, no overlap");
  s.sync();
  std::copy(mirror.begin(), mirror.begin() + 300, mirror.begin() + 600);
  if (s.download(a, 0, kSize) != mirror) fail("copy_buffer within one buffer (0 -> 600, 300 bytes) produced wrong bytes");
  const plinth_status_t st = api.copy_buffer(s.stream(), a.get(), 0, a.get(), 100, 200);
  s.expect_status(st, PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer with overlapping regions of one buffer");
  s.sync();
}

void out_of_range(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr uint64_t kSize = 256;
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  const auto data = pattern_bytes(kSize, 3);
  s.upload(a, 0, data);
  std::vector<std::byte> host(512);
  struct Case {
    uint64_t offset, size;
  };
  for (const Case c : {Case{0, kSize + 1}, Case{kSize, 1}, Case{200, 57}, Case{UINT64_MAX - 2, 4}, Case{1, UINT64_MAX}}) {
    const std::string range = "offset " + std::to_string(c.offset) + " size " + std::to_string(c.size) + " in a " + std::to_string(kSize) + "-byte buffer";
    const uint64_t n = std::min<uint64_t>(c.size, host.size());
    if (c.size <= host.size()) {
      s.expect_status(api.copy_host_to_buffer(s.stream(), host.data(), a.get(), c.offset, n), PLINTH_ERROR_OUT_OF_RANGE, "copy_host_to_buffer " + range);
      s.expect_status(api.copy_buffer_to_host(s.stream(), a.get(), c.offset, host.data(), n), PLINTH_ERROR_OUT_OF_RANGE, "copy_buffer_to_host " + range);
    }
    s.expect_status(api.copy_buffer(s.stream(), a.get(), c.offset, b.get(), 0, c.size), PLINTH_ERROR_OUT_OF_RANGE, "copy_buffer source " + range);
    s.expect_status(api.copy_buffer(s.stream(), b.get(), 0, a.get(), c.offset, c.size), PLINTH_ERROR_OUT_OF_RANGE, "copy_buffer destination " + range);
  }
  s.sync();
  if (s.download(a, 0, kSize) != data) fail("a rejected out-of-range copy changed the buffer");
}

void huge_allocation(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  std::string seen;
  for (uint64_t size : {uint64_t{s.props().max_allocation + 1}, uint64_t{1} << 50, uint64_t{UINT64_MAX - 4095}}) {
    if (size == 0) continue;
    plinth_buffer_t b = nullptr;
    const plinth_status_t st = try_alloc(s, size, PLINTH_MEMORY_DEVICE, 0, &b);
    if (st == PLINTH_OK) {
      if (b) api.buffer_free(b);
      if (size > s.props().max_allocation) fail("buffer_alloc(" + std::to_string(size) + " bytes) beyond max_allocation " + std::to_string(s.props().max_allocation) + " succeeded");
      continue;
    }
    if (st != PLINTH_ERROR_OUT_OF_MEMORY && st != PLINTH_ERROR_OUT_OF_RANGE) {
      fail("buffer_alloc(" + std::to_string(size) + " bytes): got " + status_text(st) + ", want PLINTH_ERROR_OUT_OF_MEMORY or PLINTH_ERROR_OUT_OF_RANGE");
    }
    if (s.last_error().empty()) fail("buffer_alloc(" + std::to_string(size) + " bytes) failed without a message");
    if (b != nullptr) fail("a failed buffer_alloc wrote a non-NULL handle");
    seen += std::string(seen.empty() ? "" : ", ") + status_text(st);
  }
  // Still usable.
  auto buffer = s.alloc(4096);
  const auto data = pattern_bytes(4096, 9);
  s.upload(buffer, 0, data);
  if (s.download(buffer, 0, 4096) != data) fail("the device is not usable after a failed huge allocation");
  env.note = "huge allocations answered " + seen;
}

void many_buffers(TestEnv& env) {
  const auto& s = env.s();
  std::vector<DeviceBuffer> buffers;
  for (int i = 0; i < 512; ++i) buffers.push_back(s.alloc(static_cast<uint64_t>(1 + (i * 37) % 300)));
  std::shuffle(buffers.begin(), buffers.end(), env.rng);
  for (std::size_t i = 0; i < buffers.size(); i += 2) buffers[i] = DeviceBuffer();
  for (std::size_t i = 1; i < buffers.size(); i += 98) {  // odd slots are still alive
    const auto data = pattern_bytes(buffers[i].size(), i);
    s.upload(buffers[i], 0, data);
    if (s.download(buffers[i], 0, data.size()) != data) fail("buffer " + std::to_string(i) + " of 512 lost its contents after other buffers were freed");
  }
}

void map_rules(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  if (api.buffer_map == nullptr) throw Skipped("buffer_map is NULL: no host-visible memory");
  const auto features = s.props().features;
  std::vector<std::pair<uint32_t, const char*>> kinds;
  if (features & PLINTH_FEATURE_UNIFIED_MEMORY) kinds.emplace_back(PLINTH_MEMORY_DEVICE, "DEVICE");
  if (features & PLINTH_FEATURE_HOST_PINNED) kinds.emplace_back(PLINTH_MEMORY_HOST_PINNED, "HOST_PINNED");
  if (features & PLINTH_FEATURE_SHARED_MEMORY) kinds.emplace_back(PLINTH_MEMORY_SHARED, "SHARED");
  if (!(features & PLINTH_FEATURE_UNIFIED_MEMORY)) {
    auto b = s.alloc(64);
    void* p = nullptr;
    const plinth_status_t st = api.buffer_map(b.get(), 0, 64, &p);
    if (st == PLINTH_OK) api.buffer_unmap(b.get());
    s.expect_status(st, PLINTH_ERROR_UNSUPPORTED, "buffer_map of DEVICE memory without PLINTH_FEATURE_UNIFIED_MEMORY");
  }
  for (auto [kind, name] : kinds) {
    const std::string what = std::string(name) + " buffer: ";
    auto b = s.alloc(4096, kind);
    void* p = nullptr;
    s.check(api.buffer_map(b.get(), 100, 200, &p), what + "buffer_map(offset 100, 200 bytes)");
    if (p == nullptr) fail(what + "buffer_map returned OK and a NULL pointer");
    const auto data = pattern_bytes(200, 11);
    std::memcpy(p, data.data(), 200);
    void* again = nullptr;
    s.expect_status(api.buffer_map(b.get(), 0, 16, &again), PLINTH_ERROR_INVALID_STATE, what + "mapping a mapped buffer");
    s.check(api.buffer_unmap(b.get()), what + "buffer_unmap");
    if (s.download(b, 100, 200) != data) fail(what + "bytes written through the mapping are not seen by copy_buffer_to_host");
    s.expect_status(api.buffer_unmap(b.get()), PLINTH_ERROR_INVALID_STATE, what + "unmapping an unmapped buffer");
    s.expect_status(api.buffer_map(b.get(), 4000, 200, &again), PLINTH_ERROR_OUT_OF_RANGE, what + "buffer_map(offset 4000, 200 bytes) of 4096");
    // Freeing a mapped buffer unmaps it.
    s.check(api.buffer_map(b.get(), 0, 4096, &p), what + "buffer_map(whole)");
  }
  if (kinds.empty()) env.note = "no host-visible memory kind advertised";
}

}  // namespace

SuiteDef memory_suite() {
  SuiteDef s{"memory", true, {}};
  s.tests = {
      {"memory.sizes", "", sizes},
      {"memory.alignment", "", alignment},
      {"memory.invalid_requests", "", invalid_requests},
      {"memory.offsets", "", offsets},
      {"memory.out_of_range", "", out_of_range},
      {"memory.huge_allocation", "", huge_allocation},
      {"memory.many_buffers", "", many_buffers},
      {"memory.map_rules", "", map_rules},
  };
  return s;
}

}  // namespace plinth::cts
