// check_host and HostLog: version negotiation and logging through the host's callback.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "plinth/sdk/log.hpp"
#include "plinth/sdk/status.hpp"
#include "test_structs.hpp"

namespace plinth::sdk {
namespace {

using test::host_v1;

TEST(CheckHost, AcceptsSameMajorAnyMinor) {
  plinth_host_services_t h = host_v1();
  EXPECT_EQ(check_host(&h), PLINTH_OK);
  h.abi_minor = 99;
  EXPECT_EQ(check_host(&h), PLINTH_OK);
  EXPECT_STREQ(last_error_message(), "");
}

TEST(CheckHost, RejectsOtherMajorWithMessage) {
  plinth_host_services_t h = host_v1();
  h.abi_major = 2;
  h.abi_minor = 0;
  EXPECT_EQ(check_host(&h), PLINTH_ERROR_INCOMPATIBLE_VERSION);
  EXPECT_NE(std::string(last_error_message()).find("host speaks plugin ABI 2.0"), std::string::npos)
      << last_error_message();
}

TEST(CheckHost, RejectsNullAndTooSmall) {
  EXPECT_EQ(check_host(nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_host_services_t h = host_v1();
  h.struct_size = 8;
  EXPECT_EQ(check_host(&h), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(last_error_message()).find("struct_size 8"), std::string::npos);
}

TEST(HostLog, ForwardsToCallback) {
  std::vector<std::pair<int32_t, std::string>> lines;
  plinth_host_services_t h = host_v1();
  h.log = [](void* user, int32_t level, const char* message) {
    static_cast<std::vector<std::pair<int32_t, std::string>>*>(user)->emplace_back(level, message);
  };
  h.log_user_data = &lines;
  HostLog log;
  log(PLINTH_LOG_INFO, "before set: dropped");
  log.set(&h);
  log(PLINTH_LOG_WARN, "hello");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, PLINTH_LOG_WARN);
  EXPECT_EQ(lines[0].second, "hello");
  // A host too old to carry the log fields leaves the plugin silent.
  h.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_host_services_t, reserved0);
  log.set(&h);
  log(PLINTH_LOG_ERROR, "dropped");
  log.set(nullptr);
  log(PLINTH_LOG_ERROR, "dropped");
  EXPECT_EQ(lines.size(), 1u);
}

}  // namespace
}  // namespace plinth::sdk
