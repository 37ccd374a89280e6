#include "onednn_matmul_baseline.hpp"

#include <stdexcept>
#include <unordered_map>

#if PLINTH_BENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace plinth::bench {

#if PLINTH_BENCH_HAVE_ONEDNN

namespace {

dnnl::memory::data_type to_dnnl(DType t) {
  switch (t) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::f16: return dnnl::memory::data_type::f16;
    case DType::bf16: return dnnl::memory::data_type::bf16;
    default: break;
  }
  throw std::runtime_error("oneDNN baseline: no float type for " + std::string(dtype_name(t)));
}

}  // namespace

struct OneDnnMatmulBaseline::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
  std::unordered_map<int, dnnl::memory> args;
};

OneDnnMatmulBaseline::OneDnnMatmulBaseline(int64_t m, int64_t k, int64_t n, DType in_type, DType out_type, void* a,
                                           void* b, void* c)
    : impl_(std::make_unique<Impl>()) {
  const auto ti = to_dnnl(in_type);
  const auto to = to_dnnl(out_type);
  // Explicit strides, not format_tag::any: the weights stay in their [N, K] storage as they do for
  // Plinth, so neither side gets a reordered (pre-packed) copy the other does not.
  const dnnl::memory::desc a_md({m, k}, ti, dnnl::memory::dims{k, 1});
  const dnnl::memory::desc b_md({k, n}, ti, dnnl::memory::dims{1, k});
  const dnnl::memory::desc c_md({m, n}, to, dnnl::memory::dims{n, 1});
  try {
    impl_->pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), impl_->engine);
  } catch (const dnnl::error& e) {
    throw std::runtime_error(std::string("oneDNN has no ") + std::string(dtype_name(in_type)) +
                             " matmul here (" + e.what() + ")");
  }
  impl_->primitive = dnnl::matmul(impl_->pd);
  impl_->args = {{DNNL_ARG_SRC, dnnl::memory(a_md, impl_->engine, a)},
                 {DNNL_ARG_WEIGHTS, dnnl::memory(b_md, impl_->engine, b)},
                 {DNNL_ARG_DST, dnnl::memory(c_md, impl_->engine, c)}};
}

void OneDnnMatmulBaseline::run() {
  impl_->primitive.execute(impl_->stream, impl_->args);
  impl_->stream.wait();
}

std::string OneDnnMatmulBaseline::implementation() const { return impl_->pd.impl_info_str(); }

bool OneDnnMatmulBaseline::available() noexcept { return true; }

#else

struct OneDnnMatmulBaseline::Impl {};

OneDnnMatmulBaseline::OneDnnMatmulBaseline(int64_t, int64_t, int64_t, DType, DType, void*, void*, void*) {
  throw std::runtime_error("built without oneDNN");
}
void OneDnnMatmulBaseline::run() {}
std::string OneDnnMatmulBaseline::implementation() const { return {}; }
bool OneDnnMatmulBaseline::available() noexcept { return false; }

#endif

OneDnnMatmulBaseline::OneDnnMatmulBaseline(OneDnnMatmulBaseline&&) noexcept = default;
OneDnnMatmulBaseline& OneDnnMatmulBaseline::operator=(OneDnnMatmulBaseline&&) noexcept = default;
OneDnnMatmulBaseline::~OneDnnMatmulBaseline() = default;

}  // namespace plinth::bench
