// libFuzzer entry point for the safetensors reader: any input must parse or fail with FormatError,
// and every tensor of a parsed file must be readable in full.
#include <cstddef>
#include <cstdint>

#include <plinth/formats/format_error.hpp>
#include <plinth/formats/safetensors_file.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file =
        plinth::formats::SafetensorsFile::parse({reinterpret_cast<const std::byte*>(data), size}, "fuzz.safetensors");
    volatile std::uint64_t sink = file.metadata().size();
    for (const auto& info : file.tensors()) {
      for (auto b : file.tensor(info.name).data) sink = sink + std::to_integer<unsigned>(b);
    }
  } catch (const plinth::formats::FormatError&) {
    // Rejected input: the expected outcome for most of them.
  }
  return 0;
}
