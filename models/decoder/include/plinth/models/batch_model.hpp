// BatchModel: one forward pass over a ragged batch of sequences whose KV cache is paged. The engine
// (plinth::scheduler) owns the block tables and decides what runs; the model owns the device memory
// of the blocks and runs the pass. Decode tokens of many sequences and prefill chunks of others share
// one pass, so each weight is read once per step for all of them.
//
// Paging: token position p of a sequence lives in block block_table[p / block_size()] at slot
// p % block_size(). A chunk's tokens are written at positions [start_pos, start_pos + tokens.size())
// and attend to every position before them (the cache must already hold [0, start_pos)).
//
//   std::vector<BatchChunk> chunks = {{.tokens = prompt, .start_pos = 0, .block_table = blocks_a},
//                                     {.tokens = {&next, 1}, .start_pos = 37, .block_table = blocks_b}};
//   std::span<const float> logits = model.step(chunks);  // [2, vocab_size()]
#pragma once

#include <cstdint>
#include <span>

namespace plinth::models {

struct BatchChunk {
  std::span<const int32_t> tokens;       // >= 1 token ids in [0, vocab_size())
  int32_t start_pos = 0;                 // position of tokens[0] in its sequence
  std::span<const int32_t> block_table;  // the sequence's blocks, covering start_pos + tokens.size()
  bool want_logits = true;               // return the logits of this chunk's last token
};

class BatchModel {
 public:
  virtual ~BatchModel() = default;

  virtual int vocab_size() const = 0;
  virtual int block_size() const = 0;  // tokens per KV block
  virtual int num_blocks() const = 0;  // block ids are [0, num_blocks())
  virtual int max_batch_tokens() const = 0;  // most tokens (all chunks together) one step takes

  // Runs one pass over `chunks` (their sequences distinct) and returns the logits of the last token
  // of each chunk with want_logits, in chunk order: [count, vocab_size()] row-major, valid until the
  // next call. Throws std::invalid_argument for a malformed batch (nothing is written), and
  // plinth::Error (from the core) when the device fails; the engine then treats the cache contents
  // of the chunks' sequences as lost.
  virtual std::span<const float> step(std::span<const BatchChunk> chunks) = 0;

  // Copies the KV contents of block `src` to block `dst` (a fork's partial last block).
  virtual void copy_block(int32_t src, int32_t dst) = 0;
};

}  // namespace plinth::models
