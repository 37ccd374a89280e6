// Reading a LlamaConfig from GGUF metadata.
#pragma once

#include <plinth/formats/gguf_file.hpp>
#include <plinth/models/llama_model.hpp>

namespace plinth::models {

// Checks general.architecture against supported_decoder_architectures() and reads the
// "<arch>.*" hyper-parameters. Throws std::runtime_error "<file>: <problem>".
LlamaConfig read_llama_config(const formats::GgufFile& file);

}  // namespace plinth::models
