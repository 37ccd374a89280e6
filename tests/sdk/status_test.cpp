// guard(): exception-to-status mapping, and the per-thread last error.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "plinth/sdk/status.hpp"

namespace plinth::sdk {
namespace {

TEST(Status, GuardMapsExceptions) {
  EXPECT_EQ(guard([] {}), PLINTH_OK);
  EXPECT_STREQ(last_error_message(), "");

  EXPECT_EQ(guard([] { fail(PLINTH_ERROR_OUT_OF_RANGE, "offset 9 beyond 8", 42); }), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_STREQ(last_error_message(), "offset 9 beyond 8");
  EXPECT_EQ(last_error_vendor_code(), 42);

  EXPECT_EQ(guard([] { throw std::bad_alloc(); }), PLINTH_ERROR_OUT_OF_MEMORY);
  EXPECT_STREQ(last_error_message(), "host out of memory");
  EXPECT_EQ(last_error_vendor_code(), 0);

  EXPECT_EQ(guard([] { throw std::logic_error("broken invariant"); }), PLINTH_ERROR_INTERNAL);
  EXPECT_STREQ(last_error_message(), "broken invariant");

  EXPECT_EQ(guard([] { throw 7; }), PLINTH_ERROR_INTERNAL);
  EXPECT_STREQ(last_error_message(), "unknown exception inside plugin");

  EXPECT_EQ(guard([] { require(false, "size is 0"); }), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(last_error_message(), "size is 0");
  EXPECT_EQ(guard([] { require(true, "unused"); }), PLINTH_OK);
  // A successful call clears the previous failure.
  EXPECT_STREQ(last_error_message(), "");
}

TEST(Status, LastErrorIsPerThread) {
  set_last_error(PLINTH_ERROR_INTERNAL, "main thread failure", 5);
  std::string other;
  int64_t other_code = -1;
  std::thread t([&] {
    other = last_error_message();
    other_code = last_error_vendor_code();
    set_last_error(PLINTH_ERROR_DEVICE_LOST, "worker failure", 9);
  });
  t.join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(other_code, 0);
  EXPECT_STREQ(last_error_message(), "main thread failure");
  EXPECT_EQ(last_error_vendor_code(), 5);
  clear_last_error();
  EXPECT_STREQ(last_error_message(), "");
}

TEST(Status, Names) {
  EXPECT_STREQ(status_name(PLINTH_OK), "PLINTH_OK");
  EXPECT_STREQ(status_name(PLINTH_ERROR_OUT_OF_MEMORY), "PLINTH_ERROR_OUT_OF_MEMORY");
  EXPECT_STREQ(status_name(PLINTH_ERROR_INCOMPATIBLE_VERSION), "PLINTH_ERROR_INCOMPATIBLE_VERSION");
  EXPECT_STREQ(status_name(PLINTH_ERROR_INTERNAL), "PLINTH_ERROR_INTERNAL");
  EXPECT_STREQ(status_name(1234), "PLINTH_ERROR_UNKNOWN");
}

TEST(Status, ErrorCarriesStatusAndVendorCode) {
  try {
    fail(PLINTH_ERROR_DEVICE_LOST, "gone", -3);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_DEVICE_LOST);
    EXPECT_EQ(e.vendor_code(), -3);
    EXPECT_STREQ(e.what(), "gone");
    return;
  }
  FAIL() << "fail() did not throw";
}

}  // namespace
}  // namespace plinth::sdk
