// VkResult -> plinth status mapping (the VkResult travels as the vendor code).
#pragma once

#include <vulkan/vulkan.h>

#include "plinth/sdk/status.hpp"

namespace plinth::vulkan {

const char* vk_result_name(VkResult result) noexcept;
plinth_status_t vk_status(VkResult result) noexcept;

// Throws sdk::Error naming `what` unless result is VK_SUCCESS.
inline void check(VkResult result, const char* what) {
  if (result != VK_SUCCESS) {
    sdk::fail(vk_status(result), std::string(what) + " failed: " + vk_result_name(result), result);
  }
}

}  // namespace plinth::vulkan
