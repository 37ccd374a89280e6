// sdk::DeviceLoss: the lost state and the PLINTH_PLUGIN_FAULT=device_lost:N test hook.
#include "plinth/sdk/device_loss.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "plinth/sdk/status.hpp"

namespace {

using plinth::sdk::DeviceLoss;

// The status and message `f` throws, or OK.
template <class F>
std::pair<plinth_status_t, std::string> outcome(F&& f) {
  try {
    f();
    return {PLINTH_OK, ""};
  } catch (const plinth::sdk::Error& e) {
    return {e.status(), e.what()};
  }
}

TEST(DeviceLoss, HealthyUntilTheDriverReportsTheLoss) {
  DeviceLoss loss;
  for (int i = 0; i < 100; ++i) loss.before_launch();
  loss.check("stream_synchronize");
  EXPECT_FALSE(loss.lost());
  loss.mark_lost("vkQueueSubmit failed: VK_ERROR_DEVICE_LOST");
  loss.mark_lost("a later reason is not kept");
  EXPECT_TRUE(loss.lost());
  const auto [status, message] = outcome([&] { loss.check("stream_synchronize"); });
  EXPECT_EQ(status, PLINTH_ERROR_DEVICE_LOST);
  EXPECT_EQ(
      message,
      "stream_synchronize: the device was lost (vkQueueSubmit failed: VK_ERROR_DEVICE_LOST); only destroying "
      "its objects is possible");
  EXPECT_EQ(outcome([&] { loss.before_launch(); }).first, PLINTH_ERROR_DEVICE_LOST);
}

TEST(DeviceLoss, HookLosesTheDeviceAtLaunchNPlusOne) {
  DeviceLoss loss(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(outcome([&] { loss.before_launch(); }).first, PLINTH_OK) << i;
  EXPECT_FALSE(loss.lost());
  const auto [status, message] = outcome([&] { loss.before_launch(); });
  EXPECT_EQ(status, PLINTH_ERROR_DEVICE_LOST);
  EXPECT_NE(message.find("op_launch: the device was lost (simulated by PLINTH_PLUGIN_FAULT=device_lost:3"),
            std::string::npos)
      << message;
  EXPECT_TRUE(loss.lost());
  EXPECT_EQ(outcome([&] { loss.check("buffer_alloc"); }).first, PLINTH_ERROR_DEVICE_LOST);
}

TEST(DeviceLoss, HookZeroLosesTheDeviceAtOnce) {
  DeviceLoss loss(0);
  EXPECT_TRUE(loss.lost());
  EXPECT_EQ(outcome([&] { loss.check("stream_create"); }).first, PLINTH_ERROR_DEVICE_LOST);
}

TEST(DeviceLoss, HookIsReadFromTheEnvironment) {
  ::unsetenv("PLINTH_PLUGIN_FAULT");
  EXPECT_FALSE(DeviceLoss::hook_from_environment().has_value());
  ::setenv("PLINTH_PLUGIN_FAULT", "device_lost:12", 1);
  EXPECT_EQ(DeviceLoss::hook_from_environment(), 12u);
  for (const char* bad :
       {"device_lost:", "device_lost:x", "device_lost:-1", "launch:3", "device_lost:3@cpu:0"}) {
    ::setenv("PLINTH_PLUGIN_FAULT", bad, 1);
    const auto [status, message] = outcome([] { DeviceLoss::hook_from_environment(); });
    EXPECT_EQ(status, PLINTH_ERROR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(message.find(std::string("PLINTH_PLUGIN_FAULT='") + bad + "'"), std::string::npos) << message;
  }
  ::unsetenv("PLINTH_PLUGIN_FAULT");
}

}  // namespace
