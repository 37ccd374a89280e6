// The access configuration file: a complete file read back field by field, and every mistake refused
// with its position and key (a typo silently ignored would leave a tenant unlimited).
#include "plinth/server/access_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "plinth/server/api_keys.hpp"

namespace plinth::server {
namespace {

namespace fs = std::filesystem;

const std::string acme_hash = format_key_hash(sha256_of("sk-plinth-acme"));
const std::string beta_hash = format_key_hash(sha256_of("sk-plinth-beta"));

// The error message for `text`, or "" (with a test failure) when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_access_config(text, "access.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parsed without an error:\n" << text;
  return "";
}

// Expects an error at `position` ("line:column" or "line:") mentioning each of `parts`.
void expect_error(const std::string& text, const std::string& position,
                  std::initializer_list<std::string> parts) {
  const std::string message = error_of(text);
  EXPECT_EQ(message.rfind("access.toml:" + position, 0), 0u)
      << "expected access.toml:" << position << " in: " << message;
  for (const std::string& part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(AccessConfig, FullFile) {
  const std::string text =
      "# two tenants, three keys\n"
      "[[tenant]]\n"
      "name = \"acme\"\n"
      "weight = 2.0\n"
      "requests_per_minute = 600\n"
      "request_burst = 20\n"
      "tokens_per_minute = 200000\n"
      "max_queued = 64\n"
      "max_running = 16\n"
      "models = [\"SmolLM2-135M-Instruct\", \"all-MiniLM-L6-v2\"]\n"
      "\n"
      "[[tenant]]\n"
      "name = \"beta.team_2\"\n"
      "\n"
      "[[key]]\n"
      "tenant = \"acme\"\n"
      "sha256 = \"" +
      acme_hash +
      "\"   # the key itself is never stored\n"
      "label = \"acme-prod\"\n"
      "\n"
      "[[key]]\n"
      "tenant = \"beta.team_2\"\n"
      "sha256 = \"" +
      beta_hash +
      "\"\n"
      "\n"
      "[[key]]\n"
      "tenant = \"default\"\n"
      "sha256 = \"" +
      format_key_hash(sha256_of("sk-plinth-other")) +
      "\"\n"
      "\n"
      "[default_tenant]\n"
      "weight = 0.5\n"
      "requests_per_minute = 30\n"
      "max_running = 2\n";
  const AccessConfig config = parse_access_config(text, "access.toml");

  ASSERT_EQ(config.tenants.size(), 2u);
  const TenantSettings& acme = config.tenants[0];
  EXPECT_EQ(acme.name, "acme");
  EXPECT_EQ(acme.weight, 2.0);
  EXPECT_EQ(acme.requests_per_minute, 600);
  EXPECT_EQ(acme.request_burst, 20);
  EXPECT_EQ(acme.effective_request_burst(), 20);
  EXPECT_EQ(acme.tokens_per_minute, 200000);
  EXPECT_EQ(acme.max_queued, 64u);
  EXPECT_EQ(acme.max_running, 16u);
  EXPECT_EQ(acme.models, (std::vector<std::string>{"SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"}));
  EXPECT_TRUE(acme.allows_model("all-MiniLM-L6-v2"));
  EXPECT_FALSE(acme.allows_model("all-MiniLM"));
  EXPECT_FALSE(acme.allows_model(""));
  const scheduler::TenantPolicy policy = acme.policy();
  EXPECT_EQ(policy.weight, 2.0);
  EXPECT_EQ(policy.max_queued, 64u);
  EXPECT_EQ(policy.max_running, 16u);

  const TenantSettings& beta = config.tenants[1];  // every field at its default
  EXPECT_EQ(beta.name, "beta.team_2");
  EXPECT_EQ(beta.weight, 1.0);
  EXPECT_EQ(beta.requests_per_minute, 0);
  EXPECT_EQ(beta.tokens_per_minute, 0);
  EXPECT_EQ(beta.max_queued, kDefaultMaxQueued);
  EXPECT_EQ(beta.max_running, kDefaultMaxRunning);
  EXPECT_TRUE(beta.models.empty());
  EXPECT_TRUE(beta.allows_model("anything"));

  ASSERT_EQ(config.keys.size(), 3u);
  EXPECT_EQ(config.keys[0].tenant, "acme");
  EXPECT_EQ(config.keys[0].sha256, sha256_of("sk-plinth-acme"));
  EXPECT_EQ(config.keys[0].label, "acme-prod");
  EXPECT_EQ(config.keys[1].tenant, "beta.team_2");
  EXPECT_EQ(config.keys[1].label, "");
  EXPECT_EQ(config.keys[2].tenant, "default");
  EXPECT_FALSE(config.open_mode());

  EXPECT_EQ(config.default_tenant.name, "default");
  EXPECT_EQ(config.default_tenant.weight, 0.5);
  EXPECT_EQ(config.default_tenant.requests_per_minute, 30);
  EXPECT_EQ(config.default_tenant.effective_request_burst(), 5);  // ten seconds of 30 per minute
  EXPECT_EQ(config.default_tenant.max_running, 2u);
  EXPECT_EQ(config.default_tenant.max_queued, kDefaultMaxQueued);

  EXPECT_EQ(config.find_tenant("acme"), &config.tenants[0]);
  EXPECT_EQ(config.find_tenant("beta.team_2"), &config.tenants[1]);
  EXPECT_EQ(config.find_tenant("default"), &config.default_tenant);
  EXPECT_EQ(config.find_tenant("Acme"), nullptr);
  EXPECT_EQ(config.find_tenant(""), nullptr);
}

// The first ```toml block of docs/server-config.md, the complete example users copy.
TEST(AccessConfig, DocumentedExampleParses) {
  std::ifstream in(PLINTH_SERVER_CONFIG_DOC);
  ASSERT_TRUE(in) << PLINTH_SERVER_CONFIG_DOC;
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t begin = doc.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const AccessConfig config =
      parse_access_config(doc.substr(begin + 8, end - begin - 8), "docs/server-config.md");
  ASSERT_EQ(config.tenants.size(), 2u);
  EXPECT_EQ(config.tenants[0].name, "acme");
  EXPECT_EQ(config.tenants[0].effective_request_burst(), 20);
  EXPECT_EQ(config.keys.size(), 3u);
  EXPECT_EQ(config.default_tenant.requests_per_minute, 60);
  EXPECT_FALSE(config.open_mode());
}

TEST(AccessConfig, EmptyFileIsOpenMode) {
  const AccessConfig config = parse_access_config("# nothing yet\n", "access.toml");
  EXPECT_TRUE(config.open_mode());
  EXPECT_TRUE(config.tenants.empty());
  EXPECT_EQ(config.default_tenant.name, "default");
  EXPECT_EQ(config.default_tenant.weight, 1.0);
  EXPECT_EQ(config.default_tenant.requests_per_minute, 0);
  EXPECT_EQ(config.default_tenant.tokens_per_minute, 0);
  EXPECT_EQ(config.default_tenant.max_queued, 256u);
  EXPECT_EQ(config.default_tenant.max_running, 64u);
  EXPECT_EQ(config.find_tenant("default"), &config.default_tenant);
}

TEST(AccessConfig, IntegersAndFloatsAreBothNumbers) {
  const AccessConfig config = parse_access_config(
      "[[tenant]]\nname = \"a\"\nweight = 3\nrequests_per_minute = 7.5\ntokens_per_minute = 1e3\n", "x");
  EXPECT_EQ(config.tenants[0].weight, 3.0);
  EXPECT_EQ(config.tenants[0].requests_per_minute, 7.5);
  EXPECT_EQ(config.tenants[0].tokens_per_minute, 1000.0);
}

TEST(AccessConfig, DefaultBurstIsTenSecondsOfTheRateAtLeastOne) {
  TenantSettings t;
  t.requests_per_minute = 600;
  EXPECT_EQ(t.effective_request_burst(), 100);
  t.requests_per_minute = 3;  // half a request in ten seconds
  EXPECT_EQ(t.effective_request_burst(), 1);
  t.requests_per_minute = 0.01;
  EXPECT_EQ(t.effective_request_burst(), 1);
  t.requests_per_minute = 61;
  EXPECT_EQ(t.effective_request_burst(), 11);  // 10.17 rounded up
  t.request_burst = 4;
  EXPECT_EQ(t.effective_request_burst(), 4);
}

TEST(AccessConfigError, Syntax) {
  expect_error("[[tenant]]\nname = \"a\"\nweight = \n", "3:", {"syntax error"});
  expect_error("[[tenant]\n", "1:", {"syntax error"});
  expect_error("[[tenant]]\nname = \"a\"\nname = \"b\"\n",
               "3:", {"syntax error"});  // TOML's own duplicate rule
}

TEST(AccessConfigError, UnknownKeys) {
  // The typo that would otherwise leave acme unlimited.
  expect_error("[[tenant]]\nname = \"acme\"\nrequests_per_minte = 60\n",
               "3:1:", {"tenant \"acme\"", "unknown key 'requests_per_minte'", "requests_per_minute"});
  expect_error("tenants = []\n", "1:1:", {"unknown key 'tenants'"});
  expect_error("[tenant_defaults]\nweight = 1\n", "1:", {"unknown key 'tenant_defaults'"});
  expect_error("[[key]]\ntenant = \"default\"\nsha256 = \"" + acme_hash + "\"\nlable = \"x\"\n",
               "4:1:", {"[[key]] #1", "unknown key 'lable'"});
  expect_error("[default_tenant]\nweight = 1\nburst = 3\n",
               "3:1:", {"[default_tenant]", "unknown key 'burst'"});
  expect_error("[default_tenant]\nname = \"main\"\n", "2:1:", {"[default_tenant]", "unknown key 'name'"});
  // A dotted key makes a table where a number belongs: reported as a wrong type, not skipped.
  expect_error("[[tenant]]\nname = \"a\"\nweight.value = 2\n",
               "3:", {"'weight' must be a number, not a table"});
}

TEST(AccessConfigError, WrongTypes) {
  expect_error("[[tenant]]\nname = \"a\"\nweight = \"2\"\n",
               "3:10:", {"tenant \"a\"", "'weight' must be a number, not a string"});
  expect_error("[[tenant]]\nname = \"a\"\nrequests_per_minute = true\n",
               "3:23:", {"'requests_per_minute' must be a number, not a boolean"});
  expect_error("[[tenant]]\nname = \"a\"\nmax_queued = 1.5\n",
               "3:14:", {"'max_queued' must be an integer, not a float"});
  expect_error("[[tenant]]\nname = \"a\"\nmax_running = \"4\"\n",
               "3:", {"'max_running' must be an integer, not a string"});
  expect_error("[[tenant]]\nname = \"a\"\nmodels = \"m\"\n",
               "3:10:", {"'models' must be an array of model names, not a string"});
  expect_error("[[tenant]]\nname = \"a\"\nmodels = [\"m\", 2]\n",
               "3:16:", {"'models' must be a string, not an integer"});
  expect_error("[[tenant]]\nname = \"a\"\nmodels = [\"\"]\n", "3:", {"'models' holds an empty model name"});
  expect_error("[[tenant]]\nname = 5\n",
               "2:8:", {"[[tenant]] #1", "'name' must be a string, not an integer"});
  expect_error("tenant = \"acme\"\n", "1:10:", {"'tenant' must be an array of tables, written [[tenant]]"});
  expect_error("[tenant]\nname = \"acme\"\n", "1:", {"'tenant' must be an array of tables"});
  expect_error("tenant = [1]\n", "1:11:", {"[[tenant]] #1 must be a table, not an integer"});
  expect_error("key = 3\n", "1:7:", {"'key' must be an array of tables, written [[key]]"});
  expect_error("default_tenant = 3\n", "1:18:", {"'default_tenant' must be a table, not an integer"});
  expect_error("[[key]]\ntenant = [\"default\"]\nsha256 = \"" + acme_hash + "\"\n",
               "2:10:", {"[[key]] #1", "'tenant' must be a string, not an array"});
  expect_error("[[key]]\ntenant = \"default\"\nsha256 = \"" + acme_hash + "\"\nlabel = 7\n",
               "4:9:", {"'label' must be a string, not an integer"});
  expect_error("[[key]]\ntenant = \"default\"\nsha256 = 1\n",
               "3:10:", {"'sha256' must be a string, not an integer"});
}

TEST(AccessConfigError, NegativeAndNonFiniteNumbers) {
  expect_error("[[tenant]]\nname = \"a\"\nrequests_per_minute = -1\n",
               "3:23:", {"'requests_per_minute' must not be negative, got -1"});
  expect_error("[[tenant]]\nname = \"a\"\ntokens_per_minute = -0.5\n",
               "3:", {"'tokens_per_minute' must not be negative"});
  expect_error("[[tenant]]\nname = \"a\"\nrequest_burst = -2\n",
               "3:", {"'request_burst' must not be negative"});
  expect_error("[[tenant]]\nname = \"a\"\nweight = -1\n", "3:10:", {"'weight' must not be negative"});
  expect_error("[[tenant]]\nname = \"a\"\nweight = inf\n",
               "3:10:", {"'weight' must be a finite number, got inf"});
  expect_error("[[tenant]]\nname = \"a\"\ntokens_per_minute = nan\n",
               "3:", {"'tokens_per_minute' must be a finite number"});
  expect_error("[default_tenant]\nrequests_per_minute = -inf\n",
               "2:", {"[default_tenant]", "'requests_per_minute' must be a finite number"});
  expect_error("[[tenant]]\nname = \"a\"\nmax_queued = -3\n",
               "3:14:", {"'max_queued' must be at least 1, got -3"});
  expect_error("[[tenant]]\nname = \"a\"\nmax_running = 0\n",
               "3:15:", {"'max_running' must be at least 1, got 0"});
}

TEST(AccessConfigError, WeightMustBePositive) {
  expect_error("[[tenant]]\nname = \"a\"\nweight = 0\n",
               "3:10:", {"tenant \"a\"", "'weight' must be greater than 0"});
  expect_error("[[tenant]]\nname = \"a\"\nweight = 0.0\n", "3:10:", {"'weight' must be greater than 0"});
  expect_error("[default_tenant]\nweight = 0\n",
               "2:10:", {"[default_tenant]", "'weight' must be greater than 0"});
}

TEST(AccessConfigError, BurstBelowOneNeverAdmits) {
  expect_error("[[tenant]]\nname = \"a\"\nrequests_per_minute = 5\nrequest_burst = 0.5\n",
               "4:17:", {"'request_burst' must be 0 (derived from the rate) or at least 1, got 0.5"});
}

TEST(AccessConfigError, TenantNames) {
  expect_error("[[tenant]]\nweight = 2\n", "1:", {"[[tenant]] #1: 'name' is missing"});
  expect_error("[[tenant]]\nname = \"a\"\n[[tenant]]\nname = \"b\"\n\n[[tenant]]\nname = \"a\"\n",
               "7:8:", {"[[tenant]] #3", "'name'", "tenant \"a\" is declared twice (first at line 2)"});
  expect_error("[[tenant]]\nname = \"default\"\n", "2:8:", {"'name'", "reserved", "[default_tenant]"});
  expect_error("[[tenant]]\nname = \"\"\n", "2:8:", {"'name'", "1-64 characters"});
  expect_error("[[tenant]]\nname = \"acme corp\"\n", "2:8:", {"'name' \"acme corp\"", "1-64 characters"});
  expect_error("[[tenant]]\nname = \"" + std::string(65, 'a') + "\"\n", "2:8:", {"1-64 characters"});
  EXPECT_NO_THROW(parse_access_config("[[tenant]]\nname = \"" + std::string(64, 'a') + "\"\n", "x"));
}

TEST(AccessConfigError, KeyOfAnUndeclaredTenant) {
  expect_error("[[tenant]]\nname = \"acme\"\n\n[[key]]\ntenant = \"acme\"\nsha256 = \"" + acme_hash +
                   "\"\n\n[[key]]\ntenant = \"acmee\"\nsha256 = \"" + beta_hash + "\"\n",
               "9:10:", {"[[key]] #2", "'tenant' \"acmee\" is not declared"});
  // The keys may come before the tenants in the file: tenants are read first.
  EXPECT_NO_THROW(parse_access_config(
      "[[key]]\ntenant = \"acme\"\nsha256 = \"" + acme_hash + "\"\n[[tenant]]\nname = \"acme\"\n", "x"));
  expect_error("[[key]]\nsha256 = \"" + acme_hash + "\"\n", "1:", {"[[key]] #1: 'tenant' is missing"});
  expect_error("[[key]]\ntenant = \"default\"\n", "1:", {"[[key]] #1: 'sha256' is missing"});
}

TEST(AccessConfigError, MalformedHashes) {
  const std::string hex = acme_hash.substr(7);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad : {hex,                              // no prefix
                                 "sha256:" + hex.substr(1),        // 63 digits
                                 "sha256:" + hex + "0",            // 65 digits
                                 "sha256:" + upper,                // uppercase
                                 "SHA256:" + hex,                  // prefix case
                                 "sha512:" + hex,                  // another algorithm
                                 "sha256:" + hex.substr(1) + "g",  // not hex
                                 "sha256: " + hex.substr(1),       // a space
                                 std::string("sk-plinth-the-key-itself")}) {
    SCOPED_TRACE(bad);
    expect_error("[[key]]\ntenant = \"default\"\nsha256 = \"" + bad + "\"\n",
                 "3:10:", {"[[key]] #1", "'sha256' must be \"sha256:\" followed by 64 lowercase hex digits"});
  }
}

TEST(AccessConfigError, DuplicateKeyHashes) {
  expect_error(
      "[[tenant]]\nname = \"a\"\n[[tenant]]\nname = \"b\"\n"
      "[[key]]\ntenant = \"a\"\nsha256 = \"" +
          acme_hash +
          "\"\n"
          "[[key]]\ntenant = \"b\"\nsha256 = \"" +
          beta_hash +
          "\"\n"
          "[[key]]\ntenant = \"b\"\nlabel = \"copy\"\nsha256 = \"" +
          acme_hash + "\"\n",
      "14:10:", {"[[key]] #3", "'sha256' is the same as [[key]] #1's (line 5)"});
}

TEST(AccessConfigError, UnreadableFile) {
  const fs::path missing = fs::temp_directory_path() / "plinth-no-such-dir" / "access.toml";
  try {
    load_access_config(missing);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), missing.string() + ": cannot read: No such file or directory");
  }
  try {
    load_access_config(fs::temp_directory_path());
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), fs::temp_directory_path().string() + ": cannot read: Is a directory");
  }
}

TEST(AccessConfig, LoadsAFileAndNamesItInErrors) {
  const fs::path dir = fs::temp_directory_path() / ("plinth-access-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path good = dir / "good.toml";
  std::ofstream(good) << "[[tenant]]\nname = \"acme\"\n[[key]]\ntenant = \"acme\"\nsha256 = \"" << acme_hash
                      << "\"\n";
  const AccessConfig config = load_access_config(good);
  ASSERT_EQ(config.keys.size(), 1u);
  EXPECT_EQ(config.keys[0].tenant, "acme");

  const fs::path bad = dir / "bad.toml";
  std::ofstream(bad) << "[[tenant]]\nname = \"acme\"\nweight = 0\n";
  try {
    load_access_config(bad);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad.string() + ":3:10: tenant \"acme\": 'weight'", 0), 0u)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(AccessConfig, FormatKeyRecordRoundTrips) {
  KeyRecord record;
  record.tenant = "acme";
  record.sha256 = sha256_of("sk-plinth-x");
  record.label = "Bob's \"prod\" key \\ line\nbreak\ttab \u00e9";
  const std::string block = format_key_record(record);
  EXPECT_EQ(
      block.rfind("[[key]]\ntenant = \"acme\"\nsha256 = \"" + format_key_hash(record.sha256) + "\"\n", 0), 0u)
      << block;
  const AccessConfig config = parse_access_config("[[tenant]]\nname = \"acme\"\n\n" + block, "x");
  ASSERT_EQ(config.keys.size(), 1u);
  EXPECT_EQ(config.keys[0].tenant, record.tenant);
  EXPECT_EQ(config.keys[0].sha256, record.sha256);
  EXPECT_EQ(config.keys[0].label, record.label);

  record.label.clear();  // no label line at all
  EXPECT_EQ(format_key_record(record).find("label"), std::string::npos);
}

TEST(AccessConfig, TenantNameRule) {
  EXPECT_TRUE(is_valid_tenant_name("acme"));
  EXPECT_TRUE(is_valid_tenant_name("A.b_c-9"));
  EXPECT_FALSE(is_valid_tenant_name(""));
  EXPECT_FALSE(is_valid_tenant_name("a b"));
  EXPECT_FALSE(is_valid_tenant_name("a\"b"));
  EXPECT_FALSE(is_valid_tenant_name("\xc3\xa9"));
  EXPECT_FALSE(is_valid_tenant_name(std::string(65, 'x')));
}

}  // namespace
}  // namespace plinth::server
