// SHA-256 of a file's contents (OpenSSL's libcrypto), as lowercase hex.
#pragma once

#include <filesystem>
#include <string>

namespace plinth::models::detail {

// Reads the file in large sequential chunks. Throws std::runtime_error naming the path when it
// cannot be opened or read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace plinth::models::detail
