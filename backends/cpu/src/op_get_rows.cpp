// GET_ROWS: gather (and dequantize) table rows. Indices are checked before anything is written.
#include <cstring>
#include <string>

#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {

void op_get_rows(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& table = ctx.in[0];
  const Tensor& idx = ctx.in[1];
  const Tensor& y = ctx.out[0];
  const int64_t n = y.rows();
  const int64_t d = y.cols();
  const int64_t r = table.dims[2];
  if (y.numel() == 0) return;
  for (int64_t i = 0; i < n; ++i) {
    int32_t v;
    std::memcpy(&v, idx.data + i * idx.strides[3], sizeof v);
    if (v < 0 || v >= r) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: indices[" + std::to_string(i) +
                                                   "] = " + std::to_string(v) + " lies outside the table's " +
                                                   std::to_string(r) + " rows");
    }
  }
  const bool quantized = sdk::is_quantized(table.dtype);
  const QuantFormat fmt = table.dtype == PLINTH_DTYPE_Q8_0   ? QuantFormat::kQ8_0
                          : table.dtype == PLINTH_DTYPE_Q4_0 ? QuantFormat::kQ4_0
                                                             : QuantFormat::kQ4_1;
  parallel_for(n, grain_for(d), [&](int64_t i0, int64_t i1) {
    float* tmp = thread_scratch(0, d);
    for (int64_t i = i0; i < i1; ++i) {
      int32_t v;
      std::memcpy(&v, idx.data + i * idx.strides[3], sizeof v);
      const std::byte* src = table.at(0, 0, v, 0);
      if (quantized) {
        k.dequant_row(fmt, reinterpret_cast<const uint8_t*>(src), tmp, d);
      } else {
        load_row(k, src, table.dtype, table.strides[3], d, tmp);
      }
      store_row(k, tmp, y.row(i), y.dtype, y.strides[3], d);
    }
  });
}

}  // namespace plinth::cpu
