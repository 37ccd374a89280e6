// Copy rows: device buffer to device buffer through Stream::copy and through the COPY op (f32 to
// f32), beside std::memcpy of the same size between two host buffers. GB/s counts the bytes copied
// once (not read plus written).
#include <cstring>
#include <functional>
#include <tuple>
#include <string>

#include "bench_context.hpp"
#include "host_memory.hpp"
#include "plinth/buffer.hpp"
#include "plinth/ops.hpp"
#include "plinth/tensor.hpp"
#include "test_data.hpp"

namespace plinth::bench {
namespace {

uint64_t copy_bytes_for(BenchSize size) {
  switch (size) {
    case BenchSize::full: return uint64_t{256} << 20;
    case BenchSize::quick: return uint64_t{32} << 20;
    case BenchSize::tiny: return uint64_t{1} << 20;
  }
  return 0;
}

// Measures `plinth_work` interleaved with memcpy between the two host buffers.
void measure_beside_memcpy(const Sampler& sampler, Row& row, const std::function<void()>& plinth_work,
                           const HostMemory& src, const HostMemory& dst) {
  const double gb = static_cast<double>(src.size()) * 1e-9;
  Side plinth{"plinth", {}, gb, "GB/s"};
  Side base{"memcpy", {}, gb, "GB/s"};
  std::tie(plinth.timing, base.timing) =
      sampler.measure_pair(plinth_work, [&] { std::memcpy(dst.data(), src.data(), src.size()); });
  row.plinth = plinth;
  row.baseline = base;
}

}  // namespace

void run_copy_bench(BenchContext& ctx) {
  const uint64_t bytes = copy_bytes_for(ctx.size);
  const std::string size_name = std::to_string(bytes >> 20) + " MiB";
  ctx.table.section("copy: device buffer to device buffer, " + size_name + "; GB/s of bytes copied");

  HostMemory host_src(bytes);
  HostMemory host_dst(bytes);
  fill_random(DType::f32, bytes / 4, host_src.bytes(), 7);
  Buffer src = ctx.device.allocate(bytes);
  Buffer dst = ctx.device.allocate(bytes);
  src.write(host_src.bytes());

  {
    Row row("copy", "Stream::copy " + size_name);
    measure_beside_memcpy(
        ctx.sampler, row,
        [&] {
          ctx.stream.copy(src, 0, dst, 0, bytes);
          ctx.stream.synchronize();
        },
        host_src, host_dst);
    ctx.table.add(std::move(row));
  }
  {
    Row row("copy", "COPY op f32 " + size_name);
    const auto elems = static_cast<int64_t>(bytes / 4);
    const Tensor x = Tensor::contiguous(src, DType::f32, {elems});
    const Tensor y = Tensor::contiguous(dst, DType::f32, {elems});
    const SupportResult sup = ctx.device.supports(ops::make_copy(x, y));
    if (!sup) {
      row.status = "unsupported";
      row.reason = sup.reason;
    } else {
      measure_beside_memcpy(
          ctx.sampler, row,
          [&] {
            ops::copy(ctx.stream, x, y);
            ctx.stream.synchronize();
          },
          host_src, host_dst);
    }
    ctx.table.add(std::move(row));
  }
}

}  // namespace plinth::bench
