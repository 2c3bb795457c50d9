// For C++ tests that need the RabbitMQ and Redis servers of the test run
// (tests/services.py, started by ctest): where they are.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace verdi::testing {

/// services.json as tests/services.py wrote it. Fails the test (never skips)
/// when the services are not there: run through ctest, or start them with
/// `tests/services.py start DIR` and set VERDI_TEST_SERVICES=DIR/services.json.
inline nlohmann::json TestServices() {
  const char* path = std::getenv("VERDI_TEST_SERVICES");
  if (path == nullptr) {
    ADD_FAILURE() << "VERDI_TEST_SERVICES is not set: run this test through ctest";
    return nlohmann::json::object();
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    ADD_FAILURE() << "cannot read the test services file " << path;
    return nlohmann::json::object();
  }
  return doc;
}

inline std::string TestAmqpUrl() { return TestServices().value("amqp_url", ""); }
inline std::string TestRedisUrl() { return TestServices().value("redis_url", ""); }

}  // namespace verdi::testing
