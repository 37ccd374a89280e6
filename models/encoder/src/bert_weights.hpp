// The weights of a BERT encoder on a device, in the layout the graph uses: Q, K and V projections
// fused into one [3H, H] matrix (one matmul instead of three), and the position and token-type-0
// embeddings pre-added into one table.
#pragma once

#include <plinth/buffer.hpp>
#include <plinth/device.hpp>
#include <plinth/dtype.hpp>
#include <plinth/formats/safetensors_file.hpp>
#include <plinth/models/bert_config.hpp>
#include <plinth/stream.hpp>
#include <plinth/tensor.hpp>
#include <vector>

namespace plinth::models::detail {

struct BertLayerWeights {
  Tensor qkv_weight, qkv_bias;            // [3H, H], [3H]
  Tensor attn_out_weight, attn_out_bias;  // [H, H], [H]
  Tensor attn_norm_gamma, attn_norm_beta;
  Tensor ffn_in_weight, ffn_in_bias;    // [I, H], [I]
  Tensor ffn_out_weight, ffn_out_bias;  // [H, I], [H]
  Tensor ffn_norm_gamma, ffn_norm_beta;
};

struct BertWeights {
  std::vector<Buffer> buffers;  // own every tensor below
  Tensor word_embeddings;       // [V, H]
  Tensor position_embeddings;   // [P, H]: position + token type 0
  Tensor embed_norm_gamma, embed_norm_beta;
  std::vector<BertLayerWeights> layers;
  DType matrix_dtype = DType::f32;  // of the matmul weights and the word table
};

// Uploads every weight the graph needs and waits for the uploads (so `file` may be closed after).
// Names are those of HF BertModel checkpoints, with or without a "bert." prefix. Throws
// std::runtime_error naming the file and tensor for a missing tensor, a wrong shape or a non-float
// dtype. `matrix_dtype` must be a float dtype the device supports for matmul and get_rows.
BertWeights load_bert_weights(Device& device, Stream& stream, const formats::SafetensorsFile& file,
                              const BertConfig& config, DType matrix_dtype);

}  // namespace plinth::models::detail
