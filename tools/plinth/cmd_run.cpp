// plinth run [--device ID]... [--plugin PATH]...: a small portable workload — one transformer-style
// block (RMSNorm, Q/K/V projections, RoPE, grouped-query causal attention, output projection with a
// residual add, SwiGLU MLP, logits, softmax, top-k) on random inputs with a fixed seed — run on every
// device (or those named). Prints per device the wall time and a checksum, and the largest relative
// difference of each device's outputs from the first device's. Exits non-zero when a device differs
// by more than 1e-3 or a named device cannot run it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/plinth.hpp"

namespace plinth::cli {
namespace {

struct RunArgs {
  std::vector<std::string> devices;
  std::vector<std::string> plugins;
  uint32_t seed = 42;
  int iterations = 3;
};

// Shapes of the block: small enough to run in milliseconds on a CPU, large enough to use every op.
constexpr int64_t kSeq = 16;      // tokens
constexpr int64_t kModel = 64;    // hidden size
constexpr int64_t kHeads = 4;     // query heads
constexpr int64_t kKvHeads = 2;   // key/value heads (grouped-query attention)
constexpr int64_t kHeadDim = kModel / kHeads;
constexpr int64_t kKvDim = kKvHeads * kHeadDim;
constexpr int64_t kFfn = 128;
constexpr int64_t kVocab = 100;
constexpr uint32_t kTopK = 5;
constexpr double kTolerance = 1e-3;

struct HostInputs {
  std::vector<float> x, norm1, norm2, wq, wk, wv, wo, wgate, wup, wdown, wout;
  std::vector<int32_t> positions;
};

HostInputs make_inputs(uint32_t seed) {
  std::mt19937 rng(seed);
  auto random = [&](int64_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& e : v) e = dist(rng);
    return v;
  };
  HostInputs in;
  in.x = random(kSeq * kModel, 1.0f);
  in.norm1 = random(kModel, 0.1f);
  in.norm2 = random(kModel, 0.1f);
  for (auto& w : in.norm1) w += 1.0f;
  for (auto& w : in.norm2) w += 1.0f;
  // Weights scaled by 1/sqrt(fan-in) keep activations near unit size through the block.
  const float s_model = 1.0f / std::sqrt(static_cast<float>(kModel));
  in.wq = random(kModel * kModel, s_model);
  in.wk = random(kKvDim * kModel, s_model);
  in.wv = random(kKvDim * kModel, s_model);
  in.wo = random(kModel * kModel, s_model);
  in.wgate = random(kFfn * kModel, s_model);
  in.wup = random(kFfn * kModel, s_model);
  in.wdown = random(kModel * kFfn, 1.0f / std::sqrt(static_cast<float>(kFfn)));
  in.wout = random(kVocab * kModel, s_model);
  in.positions.resize(kSeq);
  for (int64_t i = 0; i < kSeq; ++i) in.positions[static_cast<std::size_t>(i)] = static_cast<int32_t>(i);
  return in;
}

struct DeviceResult {
  std::string id;
  bool ok = false;
  std::string error;
  double best_ms = 0;
  std::vector<float> hidden;  // the block's output [S, D]
  std::vector<float> probs;   // softmax(logits) [S, V]
  std::vector<float> top_values;
  std::vector<int32_t> top_indices;
  double checksum = 0;
};

class BlockRunner {
 public:
  BlockRunner(Device& device, const HostInputs& in) : dev_(device), stream_(device.create_stream()) {
    x_ = upload(in.x, {kSeq, kModel});
    norm1_ = upload(in.norm1, {kModel});
    norm2_ = upload(in.norm2, {kModel});
    wq_ = upload(in.wq, {kModel, kModel});
    wk_ = upload(in.wk, {kKvDim, kModel});
    wv_ = upload(in.wv, {kKvDim, kModel});
    wo_ = upload(in.wo, {kModel, kModel});
    wgate_ = upload(in.wgate, {kFfn, kModel});
    wup_ = upload(in.wup, {kFfn, kModel});
    wdown_ = upload(in.wdown, {kModel, kFfn});
    wout_ = upload(in.wout, {kVocab, kModel});
    auto pos = alloc(kSeq * 4);
    stream_.upload(in.positions.data(), pos, 0, kSeq * 4);
    positions_ = Tensor::contiguous(pos, DType::i32, {kSeq});
    buffers_.push_back(std::move(pos));
    stream_.synchronize();  // the host vectors are only borrowed until here

    h_ = scratch(DType::f32, {kSeq, kModel});
    q_ = scratch(DType::f32, {1, kSeq, kHeads, kHeadDim});
    k_ = scratch(DType::f32, {1, kSeq, kKvHeads, kHeadDim});
    v_ = scratch(DType::f32, {1, kSeq, kKvHeads, kHeadDim});
    qh_ = scratch(DType::f32, {1, kHeads, kSeq, kHeadDim});
    kh_ = scratch(DType::f32, {1, kKvHeads, kSeq, kHeadDim});
    vh_ = scratch(DType::f32, {1, kKvHeads, kSeq, kHeadDim});
    oh_ = scratch(DType::f32, {1, kHeads, kSeq, kHeadDim});
    o_ = scratch(DType::f32, {1, kSeq, kHeads, kHeadDim});
    attn_ = scratch(DType::f32, {kSeq, kModel});
    x2_ = scratch(DType::f32, {kSeq, kModel});
    h2_ = scratch(DType::f32, {kSeq, kModel});
    gate_ = scratch(DType::f32, {kSeq, kFfn});
    up_ = scratch(DType::f32, {kSeq, kFfn});
    act_ = scratch(DType::f32, {kSeq, kFfn});
    mlp_ = scratch(DType::f32, {kSeq, kModel});
    out_ = scratch(DType::f32, {kSeq, kModel});
    logits_ = scratch(DType::f32, {kSeq, kVocab});
    probs_ = scratch(DType::f32, {kSeq, kVocab});
    top_values_ = scratch(DType::f32, {kSeq, kTopK});
    top_indices_ = scratch(DType::i32, {kSeq, kTopK});
  }

  void enqueue() {
    auto& s = stream_;
    const ops::MatmulOptions wt{.transpose_b = true};  // weights are stored [out, in]
    ops::rms_norm(s, x_, norm1_, h_, {.eps = 1e-5f});
    ops::matmul(s, h_, wq_, q_.reshape({kSeq, kModel}), wt);
    ops::matmul(s, h_, wk_, k_.reshape({kSeq, kKvDim}), wt);
    ops::matmul(s, h_, wv_, v_.reshape({kSeq, kKvDim}), wt);
    ops::rope(s, q_, positions_, q_, {.mode = ops::RopeMode::neox});
    ops::rope(s, k_, positions_, k_, {.mode = ops::RopeMode::neox});
    // [B, S, H, D] -> [B, H, S, D] for attention: a strided copy.
    ops::copy(s, q_.transpose(1, 2), qh_);
    ops::copy(s, k_.transpose(1, 2), kh_);
    ops::copy(s, v_.transpose(1, 2), vh_);
    ops::attention(s, qh_, kh_, vh_, std::nullopt, std::nullopt, oh_, {.causal = true});
    ops::copy(s, oh_.transpose(1, 2), o_);
    ops::matmul(s, o_.reshape({kSeq, kModel}), wo_, attn_, wt);
    ops::add(s, x_, attn_, x2_);
    ops::rms_norm(s, x2_, norm2_, h2_, {.eps = 1e-5f});
    ops::matmul(s, h2_, wgate_, gate_, wt);
    ops::matmul(s, h2_, wup_, up_, wt);
    ops::swiglu(s, gate_, up_, act_);
    ops::matmul(s, act_, wdown_, mlp_, wt);
    ops::add(s, x2_, mlp_, out_);
    ops::matmul(s, out_, wout_, logits_, wt);
    ops::softmax(s, logits_, std::nullopt, probs_);
    ops::top_k(s, probs_, top_values_, top_indices_, kTopK);
  }

  void synchronize() { stream_.synchronize(); }

  void read(DeviceResult& r) {
    r.hidden = read_floats(out_);
    r.probs = read_floats(probs_);
    r.top_values = read_floats(top_values_);
    r.top_indices.resize(static_cast<std::size_t>(top_indices_.numel()));
    stream_.download(buffer_of(top_indices_), 0, r.top_indices.data(), r.top_indices.size() * 4);
    stream_.synchronize();
  }

 private:
  Buffer alloc(int64_t bytes) { return dev_.allocate(static_cast<uint64_t>(bytes), {.stream = &stream_}); }

  Tensor upload(const std::vector<float>& data, const Shape& shape) {
    auto b = alloc(static_cast<int64_t>(data.size() * sizeof(float)));
    stream_.upload(data.data(), b, 0, data.size() * sizeof(float));
    auto t = Tensor::contiguous(b, DType::f32, shape);
    buffers_.push_back(std::move(b));
    return t;
  }

  Tensor scratch(DType dtype, const Shape& shape) {
    auto b = alloc(static_cast<int64_t>(dtype_bytes(dtype, static_cast<uint64_t>(shape.numel()))));
    auto t = Tensor::contiguous(b, dtype, shape);
    buffers_.push_back(std::move(b));
    return t;
  }

  const Buffer& buffer_of(const Tensor& t) const {
    for (const auto& b : buffers_) {
      if (b.state() == t.buffer_state()) return b;
    }
    throw std::logic_error("tensor without a buffer of this runner");
  }

  std::vector<float> read_floats(const Tensor& t) {
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    stream_.download(buffer_of(t), 0, v.data(), v.size() * sizeof(float));
    return v;
  }

  Device& dev_;
  Stream stream_;
  std::vector<Buffer> buffers_;
  Tensor x_, norm1_, norm2_, wq_, wk_, wv_, wo_, wgate_, wup_, wdown_, wout_, positions_;
  Tensor h_, q_, k_, v_, qh_, kh_, vh_, oh_, o_, attn_, x2_, h2_, gate_, up_, act_, mlp_, out_, logits_, probs_;
  Tensor top_values_, top_indices_;
};

DeviceResult run_on(Device& dev, const HostInputs& in, int iterations) {
  DeviceResult r;
  r.id = dev.id();
  try {
    BlockRunner runner(dev, in);
    runner.enqueue();  // warm-up: first-use costs (JIT, allocation) stay out of the timing
    runner.synchronize();
    r.best_ms = 1e30;
    for (int i = 0; i < std::max(1, iterations); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      runner.enqueue();
      runner.synchronize();
      const auto t1 = std::chrono::steady_clock::now();
      r.best_ms = std::min(r.best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    runner.read(r);
    for (float v : r.hidden) r.checksum += v;
    for (float v : r.probs) r.checksum += v;
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

// max |a - b| / max |b|: relative to the reference's scale, so near-zero elements do not dominate.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

int run(const RunArgs& args) {
  RuntimeOptions options;
  for (const auto& p : args.plugins) options.plugin_paths.emplace_back(p);
  options.devices = args.devices;
  Runtime rt(options);
  std::vector<Device*> devices;
  if (args.devices.empty()) {
    devices.assign(rt.devices().begin(), rt.devices().end());
  } else {
    for (const auto& id : args.devices) devices.push_back(&rt.device(id));  // throws listing known ids
  }
  if (devices.empty()) {
    std::cerr << "plinth run: no usable device (see `plinth devices -v`)\n";
    return 1;
  }
  const auto inputs = make_inputs(args.seed);
  std::cout << "workload: transformer block, seq " << kSeq << ", model " << kModel << ", heads " << kHeads << "/"
            << kKvHeads << ", ffn " << kFfn << ", vocab " << kVocab << ", seed " << args.seed << "\n";
  int status = 0;
  const DeviceResult* reference = nullptr;
  std::vector<DeviceResult> results;
  results.reserve(devices.size());
  for (auto* dev : devices) {
    results.push_back(run_on(*dev, inputs, args.iterations));
    const auto& r = results.back();
    std::ostringstream line;
    line << std::left << std::setw(14) << r.id << " ";
    if (!r.ok) {
      line << "cannot run: " << r.error;
      // A device the user named must run it; one merely found may lack an op (that is reported).
      if (!args.devices.empty()) status = 1;
      std::cout << line.str() << "\n";
      continue;
    }
    line << std::fixed << std::setprecision(3) << std::right << std::setw(9) << r.best_ms << " ms   checksum "
         << std::setprecision(6) << r.checksum;
    if (reference == nullptr) {
      reference = &r;
      line << "   (reference)";
    } else {
      const double d = std::max({max_rel_diff(r.hidden, reference->hidden), max_rel_diff(r.probs, reference->probs),
                                 max_rel_diff(r.top_values, reference->top_values)});
      line << "   max rel diff vs " << reference->id << " " << std::scientific << std::setprecision(2) << d;
      if (!(d <= kTolerance)) {
        line << "   MISMATCH (> " << kTolerance << ")";
        status = 1;
      }
      if (r.top_indices != reference->top_indices) line << "   (top-k order differs)";
    }
    std::cout << line.str() << "\n";
  }
  if (reference == nullptr) status = 1;
  return status;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run a small transformer block on every device and compare the results");
  add_verbatim_list_option(cmd, "--device", args->devices, "Device id to run on, e.g. cpu:0 (repeatable; default: all)");
  add_plugin_option(cmd, args->plugins);
  add_seed_option(cmd, args->seed, "Seed of the random inputs")->capture_default_str();
  cmd->add_option("--iterations", args->iterations, "Timed runs per device (the best is printed)")
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace plinth::cli
