# Writes a C++ source holding each SPIR-V module as a uint32_t array (script mode: cmake -P).
# Inputs: OUTPUT (file to write), NAMES (comma-separated shader names), SPV_DIR (folder of <name>.spv).
set(_out "// Generated from backends/vulkan/shaders; do not edit.\n#include \"shader_blobs.hpp\"\n\nnamespace plinth::vulkan {\nnamespace {\n")
set(_table "")
string(REPLACE "," ";" NAMES "${NAMES}")
foreach(_name IN LISTS NAMES)
  file(READ "${SPV_DIR}/${_name}.spv" _hex HEX)
  string(LENGTH "${_hex}" _len)
  math(EXPR _rem "${_len} % 8")
  if(NOT _rem EQUAL 0)
    message(FATAL_ERROR "${_name}.spv is not a whole number of 32-bit words")
  endif()
  # SPIR-V words are little-endian in the file: reverse the bytes of each 8-hex-digit group.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])"
         "0x\\4\\3\\2\\1u," _words "${_hex}")
  string(APPEND _out "const uint32_t k_${_name}[] = {${_words}};\n")
  string(APPEND _table "    {\"${_name}\", std::span<const uint32_t>(k_${_name})},\n")
endforeach()
string(APPEND _out "}  // namespace\n\nstd::span<const ShaderBlob> shader_blobs() {\n  static const ShaderBlob kBlobs[] = {\n${_table}  };\n  return kBlobs;\n}\n\n}  // namespace plinth::vulkan\n")
file(WRITE "${OUTPUT}.tmp" "${_out}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
