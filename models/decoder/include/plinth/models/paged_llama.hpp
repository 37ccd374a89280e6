// PagedLlama: the BatchModel of a LlamaModel. One step runs the tokens of many sequences (decode
// tokens and prefill chunks together) through one forward pass whose KV cache is paged: each layer
// writes the new k and v rows into their slots with SET_ROWS and reads the blocks of every sequence
// with PAGED_ATTENTION (ABI 1.2), so every weight is read once per step for the whole batch.
// The cache, the scratch buffers and the staging of the per-step indices are allocated once, in the
// constructor; a step uploads one array of indices and downloads one block of logits.
//
//   PagedLlama model(llama, {.num_blocks = 1024});
//   std::vector<BatchChunk> chunks = {{.tokens = prompt, .start_pos = 0, .block_table = blocks_a}, ...};
//   std::span<const float> logits = model.step(chunks);  // [chunks wanting logits, vocab]
//
// Not thread-safe: one engine thread drives it. The LlamaModel must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <plinth/dtype.hpp>
#include <plinth/models/batch_model.hpp>
#include <plinth/models/llama_model.hpp>
#include <span>

namespace plinth::models {

struct PagedLlamaOptions {
  int block_size = 16;          // tokens per KV block
  DType kv_dtype = DType::f16;  // the cache's dtype: f16 (half the memory) or f32
  // Blocks in the cache (per layer, k and v each). 0: default_num_blocks() of the device's free memory.
  int num_blocks = 0;
  double cache_memory_fraction = 0.5;             // of Device::memory_info().free, for num_blocks = 0
  uint64_t cache_memory_cap = uint64_t{4} << 30;  // bytes, for num_blocks = 0
  int max_batch_tokens = 512;                     // most tokens, all chunks together, in one step
  int max_seqs = 256;                             // most chunks in one step
  // Makes each sequence's logits independent of what else is in the step (bit for bit): every
  // matmul launch has exactly batch_invariant_rows rows (the last one padded), because kernels pick
  // their algorithm, and so their rounding, by the row count (the CPU quantized matmul: a fused kernel
  // up to 32 rows, dequantize + GEMM above). Costs the padding rows' arithmetic and one weight read
  // per slice; docs/models.md has the measured price.
  bool batch_invariant = false;
  int batch_invariant_rows = 8;
};

class PagedLlama final : public BatchModel {
 public:
  // Allocates the cache and all scratch memory on model.device(). Throws std::invalid_argument for
  // bad options and std::runtime_error, naming the device and the plugin's reason, when the device
  // does not run SET_ROWS or PAGED_ATTENTION with the chosen cache dtype.
  explicit PagedLlama(const LlamaModel& model, const PagedLlamaOptions& options = {});
  PagedLlama(const PagedLlama&) = delete;
  PagedLlama& operator=(const PagedLlama&) = delete;
  ~PagedLlama() override;

  // Device bytes of one block: k and v of block_size tokens in every layer.
  static uint64_t bytes_per_block(const LlamaConfig& config, int block_size, DType kv_dtype);
  // The blocks that fit in min(free * fraction, cap) bytes (at least 1).
  static int default_num_blocks(const LlamaConfig& config, int block_size, DType kv_dtype,
                                uint64_t free_bytes, double fraction, uint64_t cap);

  int vocab_size() const override;
  int block_size() const override;
  int num_blocks() const override;
  int max_batch_tokens() const override;
  int max_seqs() const;
  int max_blocks_per_seq() const;  // ceil(context_length / block_size): the longest block table read
  DType kv_dtype() const;
  uint64_t cache_bytes() const;  // device memory of the whole cache

  std::span<const float> step(std::span<const BatchChunk> chunks) override;
  void copy_block(int32_t src, int32_t dst) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::models
