// Elementwise, normalization, softmax, rope, gather and reduction ops against double references.
#include <algorithm>
#include <limits>
#include <numbers>
#include <numeric>

#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {
namespace {

using CpuOpsTest = CpuPlugin;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A transposed (non-contiguous) view of a [R, C] dense tensor: logical [C, R].
HostTensor transposed(const HostTensor& t) {
  HostTensor v = t;
  std::swap(v.dims[0], v.dims[1]);
  std::swap(v.strides[0], v.strides[1]);
  return v;
}

TEST_P(CpuOpsTest, CopyConvertsBetweenFloatTypesWithStrides) {
  const HostTensor x = random_tensor(PLINTH_DTYPE_F32, {5, 7}, 1);
  const HostTensor xt = transposed(x);  // [7, 5] strided
  for (plinth_dtype_t out : {PLINTH_DTYPE_F32, PLINTH_DTYPE_F16, PLINTH_DTYPE_BF16}) {
    const HostTensor y = make(out, {7, 5}, std::vector<double>(35, 0.0));
    const auto got = run(PLINTH_OP_COPY, {&xt}, {y}, nullptr)[0];
    const auto want = values(xt);
    for (size_t i = 0; i < want.size(); ++i) {
      std::vector<uint8_t> cell(4);
      put(cell.data(), out, want[i]);
      EXPECT_EQ(got[i], get(cell.data(), out)) << "round to nearest even at " << i;
    }
  }
  const HostTensor h = random_tensor(PLINTH_DTYPE_F16, {33}, 2);
  const HostTensor hf = make(PLINTH_DTYPE_F32, {33}, std::vector<double>(33, 0.0));
  EXPECT_EQ(run(PLINTH_OP_COPY, {&h}, {hf}, nullptr)[0], values(h));
  const HostTensor i = make(PLINTH_DTYPE_I32, {4}, {1, -2, 2147483647, -7});
  const HostTensor io = make(PLINTH_DTYPE_I32, {4}, {0, 0, 0, 0});
  EXPECT_EQ(run(PLINTH_OP_COPY, {&i}, {io}, nullptr)[0], values(i));
}

TEST_P(CpuOpsTest, FillWritesEveryElementTruncatingForI32) {
  plinth_fill_params_t p{};
  p.struct_size = sizeof p;
  p.value = -2.75;
  const HostTensor f = make(PLINTH_DTYPE_BF16, {3, 3}, std::vector<double>(9, 0.0));
  EXPECT_EQ(run(PLINTH_OP_FILL, {}, {f}, &p)[0], std::vector<double>(9, -2.75));
  const HostTensor i = make(PLINTH_DTYPE_I32, {5}, std::vector<double>(5, 0.0));
  EXPECT_EQ(run(PLINTH_OP_FILL, {}, {i}, &p)[0], std::vector<double>(5, -2.0));
}

TEST_P(CpuOpsTest, AddAndMulBroadcast) {
  const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {2, 3, 4}, 3);
  const HostTensor b = random_tensor(PLINTH_DTYPE_F16, {3, 1}, 4);
  const HostTensor y = make(PLINTH_DTYPE_F32, {2, 3, 4}, std::vector<double>(24, 0.0));
  const auto va = values(a);
  const auto vb = values(b);
  const auto sum = run(PLINTH_OP_ADD, {&a, &b}, {y}, nullptr)[0];
  const auto prod = run(PLINTH_OP_MUL, {&a, &b}, {y}, nullptr)[0];
  for (int i = 0; i < 24; ++i) {
    const double bv = vb[static_cast<size_t>((i / 4) % 3)];
    EXPECT_NEAR(sum[static_cast<size_t>(i)], va[static_cast<size_t>(i)] + bv, 1e-6);
    EXPECT_NEAR(prod[static_cast<size_t>(i)], va[static_cast<size_t>(i)] * bv, 1e-6);
  }
  // A scalar-like [1] operand and a strided one.
  const HostTensor s = make(PLINTH_DTYPE_F32, {1}, {2.5});
  const HostTensor m = random_tensor(PLINTH_DTYPE_F32, {4, 6}, 5);
  const HostTensor mt = transposed(m);
  const HostTensor yo = make(PLINTH_DTYPE_BF16, {6, 4}, std::vector<double>(24, 0.0));
  const auto got = run(PLINTH_OP_MUL, {&mt, &s}, {yo}, nullptr)[0];
  const auto vm = values(mt);
  for (size_t i = 0; i < 24; ++i) EXPECT_NEAR(got[i], vm[i] * 2.5, 1e-2);
}

TEST_P(CpuOpsTest, AddInPlaceAccumulates) {
  const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {3, 40}, 6);
  const HostTensor b = random_tensor(PLINTH_DTYPE_F32, {40}, 7);
  plinth_tensor_t da = upload(a);
  const plinth_tensor_t db = upload(b);
  ASSERT_EQ(launch(PLINTH_OP_ADD, {&da, &db}, {&da}, nullptr), PLINTH_OK) << api_->last_error_message();
  const auto got = values(download(da, a));
  const auto va = values(a);
  const auto vb = values(b);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], va[i] + vb[i % 40], 1e-6);
}

TEST_P(CpuOpsTest, UnaryActivations) {
  const HostTensor x = make(PLINTH_DTYPE_F32, {3, 37}, random_values(111, 8, -6.0, 6.0));
  const HostTensor y = make(PLINTH_DTYPE_F32, {3, 37}, std::vector<double>(111, 0.0));
  const auto vx = values(x);
  plinth_scale_params_t sp{};
  sp.struct_size = sizeof sp;
  sp.scale = -1.5f;
  sp.bias = 0.25f;
  plinth_gelu_params_t gt{};
  gt.struct_size = sizeof gt;
  gt.approximation = PLINTH_GELU_TANH;
  const auto scaled = run(PLINTH_OP_SCALE, {&x}, {y}, &sp)[0];
  const auto gelu = run(PLINTH_OP_GELU, {&x}, {y}, nullptr)[0];
  const auto gelu_t = run(PLINTH_OP_GELU, {&x}, {y}, &gt)[0];
  const auto silu = run(PLINTH_OP_SILU, {&x}, {y}, nullptr)[0];
  const HostTensor up = random_tensor(PLINTH_DTYPE_F32, {3, 37}, 9);
  const auto swiglu = run(PLINTH_OP_SWIGLU, {&x, &up}, {y}, nullptr)[0];
  const auto vu = values(up);
  for (size_t i = 0; i < vx.size(); ++i) {
    const double v = vx[i];
    EXPECT_NEAR(scaled[i], v * -1.5 + 0.25, 1e-5);
    EXPECT_NEAR(gelu[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-5);
    EXPECT_NEAR(gelu_t[i],
                0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v))),
                1e-5);
    EXPECT_NEAR(silu[i], v / (1 + std::exp(-v)), 1e-5);
    EXPECT_NEAR(swiglu[i], v / (1 + std::exp(-v)) * vu[i], 1e-5);
  }
}

TEST_P(CpuOpsTest, Norms) {
  const int64_t r = 5;
  const int64_t d = 70;
  const HostTensor x = make(PLINTH_DTYPE_F32, {r, d}, random_values(r * d, 10, -3.0, 5.0));
  const HostTensor w = random_tensor(PLINTH_DTYPE_BF16, {d}, 11);
  const HostTensor bias = random_tensor(PLINTH_DTYPE_F32, {d}, 12);
  const HostTensor y = make(PLINTH_DTYPE_F16, {r, d}, std::vector<double>(static_cast<size_t>(r * d), 0.0));
  plinth_norm_params_t np{};
  np.struct_size = sizeof np;
  np.eps = 1e-5f;
  const auto rms = run(PLINTH_OP_RMS_NORM, {&x, &w}, {y}, &np)[0];
  const auto ln = run(PLINTH_OP_LAYER_NORM, {&x, &w, &bias}, {y}, &np)[0];
  const auto ln_plain = run(PLINTH_OP_LAYER_NORM, {&x, nullptr, nullptr}, {y}, &np)[0];
  const auto l2 = run(PLINTH_OP_L2_NORMALIZE, {&x}, {y}, &np)[0];
  const auto vx = values(x);
  const auto vw = values(w);
  const auto vb = values(bias);
  std::vector<double> want_rms, want_ln, want_plain, want_l2;
  for (int64_t i = 0; i < r; ++i) {
    const double* row = &vx[static_cast<size_t>(i * d)];
    double ss = 0, mean = 0;
    for (int64_t j = 0; j < d; ++j) {
      ss += row[j] * row[j];
      mean += row[j];
    }
    mean /= d;
    double var = 0;
    for (int64_t j = 0; j < d; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= d;
    for (int64_t j = 0; j < d; ++j) {
      const auto u = static_cast<size_t>(j);
      want_rms.push_back(row[j] / std::sqrt(ss / d + 1e-5) * vw[u]);
      want_plain.push_back((row[j] - mean) / std::sqrt(var + 1e-5));
      want_ln.push_back(want_plain.back() * vw[u] + vb[u]);
      want_l2.push_back(row[j] / std::max(std::sqrt(ss), 1e-5));
    }
  }
  EXPECT_LT(nmse(rms, want_rms), 1e-6);
  EXPECT_LT(nmse(ln, want_ln), 1e-6);
  EXPECT_LT(nmse(ln_plain, want_plain), 1e-6);
  EXPECT_LT(nmse(l2, want_l2), 1e-6);
}

TEST_P(CpuOpsTest, SoftmaxWithScaleMaskAndCausal) {
  const int64_t sq = 3;
  const int64_t sk = 5;
  const HostTensor x = make(PLINTH_DTYPE_F32, {2, sq, sk}, random_values(2 * sq * sk, 13, -4, 4));
  std::vector<double> mv = random_values(sq * sk, 14, -1, 1);
  mv[2] = -kInf;
  const HostTensor mask = make(PLINTH_DTYPE_F32, {sq, sk}, mv);
  const HostTensor y = make(PLINTH_DTYPE_F32, {2, sq, sk}, std::vector<double>(30, 0.0));
  plinth_softmax_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 0.7f;
  p.causal = 1;
  const auto got = run(PLINTH_OP_SOFTMAX, {&x, &mask}, {y}, &p)[0];
  const auto vx = values(x);
  const auto vm = values(mask);
  std::vector<double> want;
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t i = 0; i < sq; ++i) {
      std::vector<double> z(static_cast<size_t>(sk));
      double mx = -kInf;
      for (int64_t j = 0; j < sk; ++j) {
        const auto u = static_cast<size_t>(j);
        z[u] = (j > i + (sk - sq)) ? -kInf
                                   : vx[static_cast<size_t>((b * sq + i) * sk + j)] * 0.7 +
                                         vm[static_cast<size_t>(i * sk + j)];
        mx = std::max(mx, z[u]);
      }
      double sum = 0;
      for (auto& v : z) sum += (v = std::exp(v - mx));
      for (auto v : z) want.push_back(v / sum);
    }
  }
  expect_close(got, want, 1e-5);
  // A row whose every element is masked gives zeros.
  const HostTensor all = make(PLINTH_DTYPE_F32, {1, 4}, {-kInf, -kInf, -kInf, -kInf});
  const HostTensor one = make(PLINTH_DTYPE_F32, {1, 4}, {1, 2, 3, 4});
  const HostTensor y1 = make(PLINTH_DTYPE_F32, {1, 4}, {9, 9, 9, 9});
  EXPECT_EQ(run(PLINTH_OP_SOFTMAX, {&one, &all}, {y1}, nullptr)[0], std::vector<double>(4, 0.0));
}

TEST_P(CpuOpsTest, RopeNormalAndNeox) {
  const int64_t b = 2, s = 3, h = 2, d = 8;
  const HostTensor x = random_tensor(PLINTH_DTYPE_F32, {b, s, h, d}, 15);
  const HostTensor pos = make(PLINTH_DTYPE_I32, {b, s}, {0, 1, 2, 7, 8, 100});
  const HostTensor y =
      make(PLINTH_DTYPE_F32, {b, s, h, d}, std::vector<double>(static_cast<size_t>(b * s * h * d), 0.0));
  for (uint32_t mode : {PLINTH_ROPE_NORMAL, PLINTH_ROPE_NEOX}) {
    plinth_rope_params_t p{};
    p.struct_size = sizeof p;
    p.mode = mode;
    p.n_dims = 6;  // the last two dims pass through
    p.freq_base = 10000.0f;
    p.freq_scale = 0.5f;
    const auto got = run(PLINTH_OP_ROPE, {&x, &pos}, {y}, &p)[0];
    auto want = values(x);
    const auto vp = values(pos);
    for (int64_t t = 0; t < b * s; ++t) {
      for (int64_t hh = 0; hh < h; ++hh) {
        double* row = &want[static_cast<size_t>((t * h + hh) * d)];
        for (int i = 0; i < 3; ++i) {
          const double theta = vp[static_cast<size_t>(t)] * 0.5 * std::pow(10000.0, -2.0 * i / 6.0);
          const int i0 = mode == PLINTH_ROPE_NEOX ? i : 2 * i;
          const int i1 = mode == PLINTH_ROPE_NEOX ? i + 3 : 2 * i + 1;
          const double a0 = row[i0], a1 = row[i1];
          row[i0] = a0 * std::cos(theta) - a1 * std::sin(theta);
          row[i1] = a0 * std::sin(theta) + a1 * std::cos(theta);
        }
      }
    }
    expect_close(got, want, 1e-5);
  }
}

// Quantizes values into GGUF blocks (test-side encoder).
std::vector<uint8_t> quantize(plinth_dtype_t t, const std::vector<double>& v) {
  std::vector<uint8_t> out;
  for (size_t b = 0; b < v.size() / 32; ++b) {
    const double* x = &v[b * 32];
    double amax = 0, mn = x[0], mx = x[0];
    for (int j = 0; j < 32; ++j) {
      amax = std::max(amax, std::fabs(x[j]));
      mn = std::min(mn, x[j]);
      mx = std::max(mx, x[j]);
    }
    auto push16 = [&](float f) {
      const uint16_t h = sdk::f32_to_f16(f);
      out.push_back(static_cast<uint8_t>(h & 0xFF));
      out.push_back(static_cast<uint8_t>(h >> 8));
    };
    if (t == PLINTH_DTYPE_Q8_0) {
      const double d = amax / 127;
      push16(static_cast<float>(d));
      for (int j = 0; j < 32; ++j)
        out.push_back(static_cast<uint8_t>(static_cast<int8_t>(d ? std::lround(x[j] / d) : 0)));
    } else if (t == PLINTH_DTYPE_Q4_0) {
      const double d = amax / 8;
      push16(static_cast<float>(d));
      uint8_t q[32];
      for (int j = 0; j < 32; ++j)
        q[j] = static_cast<uint8_t>(std::clamp<long>(d ? std::lround(x[j] / d) + 8 : 8, 0, 15));
      for (int j = 0; j < 16; ++j) out.push_back(static_cast<uint8_t>(q[j] | (q[j + 16] << 4)));
    } else {
      const double d = (mx - mn) / 15;
      push16(static_cast<float>(d));
      push16(static_cast<float>(mn));
      uint8_t q[32];
      for (int j = 0; j < 32; ++j)
        q[j] = static_cast<uint8_t>(std::clamp<long>(d ? std::lround((x[j] - mn) / d) : 0, 0, 15));
      for (int j = 0; j < 16; ++j) out.push_back(static_cast<uint8_t>(q[j] | (q[j + 16] << 4)));
    }
  }
  return out;
}

}  // namespace

// Shared with the matmul tests.
HostTensor quantized_tensor(plinth_dtype_t t, int64_t rows, int64_t cols, uint32_t seed,
                            std::vector<double>* dequant) {
  const auto v = random_values(rows * cols, seed);
  HostTensor q;
  q.dtype = t;
  q.dims = {rows, cols};
  q.bytes = quantize(t, v);
  const int64_t row_bytes = static_cast<int64_t>(q.bytes.size()) / rows;
  q.strides = {row_bytes, 1};
  dequant->assign(static_cast<size_t>(rows * cols), 0.0);
  const auto layout = sdk::dtype_layout(t);
  for (int64_t b = 0; b < rows * cols / 32; ++b) {
    float tmp[32];
    sdk::dequantize_block(t, &q.bytes[static_cast<size_t>(b * layout.block_bytes)], tmp);
    for (int j = 0; j < 32; ++j) (*dequant)[static_cast<size_t>(b * 32 + j)] = tmp[j];
  }
  return q;
}

namespace {

TEST_P(CpuOpsTest, GetRowsFloatAndQuantized) {
  const HostTensor table = random_tensor(PLINTH_DTYPE_BF16, {6, 10}, 16);
  const HostTensor idx = make(PLINTH_DTYPE_I32, {4}, {5, 0, 5, 2});
  const HostTensor y = make(PLINTH_DTYPE_F32, {4, 10}, std::vector<double>(40, 0.0));
  const auto got = run(PLINTH_OP_GET_ROWS, {&table, &idx}, {y}, nullptr)[0];
  const auto vt = values(table);
  for (int i = 0; i < 4; ++i) {
    const int row = std::array<int, 4>{5, 0, 5, 2}[static_cast<size_t>(i)];
    for (int j = 0; j < 10; ++j)
      EXPECT_EQ(got[static_cast<size_t>(i * 10 + j)], vt[static_cast<size_t>(row * 10 + j)]);
  }
  for (plinth_dtype_t qt : {PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) {
    std::vector<double> deq;
    const HostTensor q = quantized_tensor(qt, 5, 64, 17, &deq);
    const HostTensor qi = make(PLINTH_DTYPE_I32, {3}, {4, 1, 4});
    const HostTensor qy = make(PLINTH_DTYPE_F32, {3, 64}, std::vector<double>(192, 0.0));
    const auto qg = run(PLINTH_OP_GET_ROWS, {&q, &qi}, {qy}, nullptr)[0];
    for (int i = 0; i < 3; ++i) {
      const int row = std::array<int, 3>{4, 1, 4}[static_cast<size_t>(i)];
      for (int j = 0; j < 64; ++j) {
        EXPECT_NEAR(qg[static_cast<size_t>(i * 64 + j)], deq[static_cast<size_t>(row * 64 + j)], 1e-6)
            << sdk::dtype_name(qt);
      }
    }
  }
  // An index outside the table is an error and writes nothing.
  const HostTensor bad = make(PLINTH_DTYPE_I32, {2}, {1, 6});
  const plinth_tensor_t dt = upload(table);
  const plinth_tensor_t di = upload(bad);
  const HostTensor y2 = make(PLINTH_DTYPE_F32, {2, 10}, std::vector<double>(20, 3.0));
  const plinth_tensor_t dy = upload(y2);
  EXPECT_EQ(launch(PLINTH_OP_GET_ROWS, {&dt, &di}, {&dy}, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(values(download(dy, y2)), std::vector<double>(20, 3.0));
}

TEST_P(CpuOpsTest, MeanPoolWithMasks) {
  const HostTensor x = random_tensor(PLINTH_DTYPE_F32, {2, 4, 6}, 18);
  const HostTensor mi = make(PLINTH_DTYPE_I32, {2, 4}, {1, 0, 1, 1, 0, 0, 0, 0});
  const HostTensor mf = make(PLINTH_DTYPE_F32, {2, 4}, {1, 0, 1, 1, 0, 0, 0, 0});
  const HostTensor y = make(PLINTH_DTYPE_F32, {2, 6}, std::vector<double>(12, 9.0));
  const auto vx = values(x);
  std::vector<double> want(12, 0.0);
  for (int j = 0; j < 6; ++j)
    want[static_cast<size_t>(j)] =
        (vx[static_cast<size_t>(j)] + vx[static_cast<size_t>(12 + j)] + vx[static_cast<size_t>(18 + j)]) / 3;
  expect_close(run(PLINTH_OP_MEAN_POOL, {&x, &mi}, {y}, nullptr)[0], want, 1e-6);
  expect_close(run(PLINTH_OP_MEAN_POOL, {&x, &mf}, {y}, nullptr)[0], want, 1e-6);
  std::vector<double> all(12, 0.0);
  for (int b = 0; b < 2; ++b) {
    for (int j = 0; j < 6; ++j) {
      for (int s = 0; s < 4; ++s)
        all[static_cast<size_t>(b * 6 + j)] += vx[static_cast<size_t>((b * 4 + s) * 6 + j)] / 4;
    }
  }
  expect_close(run(PLINTH_OP_MEAN_POOL, {&x, nullptr}, {y}, nullptr)[0], all, 1e-6);
}

TEST_P(CpuOpsTest, TopKAndArgmaxOrderTiesAndNaN) {
  const HostTensor x = make(PLINTH_DTYPE_F32, {3, 6},
                            {1, 3, 3, kNan, 2, kNan,  //
                             5, 5, 5, 1, 1, 0,        //
                             -1, -kInf, -1, -2, 0, -3});
  const HostTensor v = make(PLINTH_DTYPE_F32, {3, 4}, std::vector<double>(12, 0.0));
  const HostTensor ix = make(PLINTH_DTYPE_I32, {3, 4}, std::vector<double>(12, 0.0));
  plinth_top_k_params_t p{};
  p.struct_size = sizeof p;
  p.k = 4;
  const auto out = run(PLINTH_OP_TOP_K, {&x}, {v, ix}, &p);
  EXPECT_EQ(out[1], (std::vector<double>{3, 5, 1, 2, 0, 1, 2, 3, 4, 0, 2, 3}));
  EXPECT_TRUE(std::isnan(out[0][0]) && std::isnan(out[0][1]));
  EXPECT_EQ(out[0][2], 3.0);
  EXPECT_EQ(out[0][11], -2.0);
  const HostTensor am = make(PLINTH_DTYPE_I32, {3}, {9, 9, 9});
  EXPECT_EQ(run(PLINTH_OP_ARGMAX, {&x}, {am}, nullptr)[0], (std::vector<double>{3, 0, 4}));
  const HostTensor flat = make(PLINTH_DTYPE_BF16, {5}, {0.5, 2, -1, 2, 1});
  const HostTensor one = make(PLINTH_DTYPE_I32, {1}, {9});
  EXPECT_EQ(run(PLINTH_OP_ARGMAX, {&flat}, {one}, nullptr)[0], (std::vector<double>{1}));
}

PLINTH_CPU_INSTANTIATE(CpuOpsTest);

}  // namespace
}  // namespace plinth::cpu_test
