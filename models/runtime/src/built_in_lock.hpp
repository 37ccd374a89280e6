// The text of tools/models.lock as it was when CMake configured the build (built_in_lock.cpp is
// generated from built_in_lock.cpp.in; the lock file is a configure dependency).
#pragma once

#include <string_view>

namespace plinth::models::detail {

std::string_view built_in_models_lock_text() noexcept;

}  // namespace plinth::models::detail
