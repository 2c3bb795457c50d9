#include "base/env_vars.h"

#include <cstdlib>
#include <map>

#include <gtest/gtest.h>

namespace verdi {
namespace {

std::optional<std::string> Sample(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"HOME", "/home/ops"}, {"DATA", "/data/in"}, {"EMPTY", ""}, {"A_1", "a1"}};
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

TEST(ExpandEnvVarsTest, BareAndBracedNames) {
  EXPECT_EQ(ExpandEnvVars("$HOME/a${DATA}b", Sample), "/home/ops/a/data/inb");
  EXPECT_EQ(ExpandEnvVars("$A_1.$A_1x ${A_1}x", Sample), "a1.$A_1x a1x");  // the longest name
  EXPECT_EQ(ExpandEnvVars("[$EMPTY][${EMPTY}]", Sample), "[][]");
  EXPECT_EQ(ExpandEnvVars("no variables", Sample), "no variables");
  EXPECT_EQ(ExpandEnvVars("", Sample), "");
}

TEST(ExpandEnvVarsTest, UnknownNamesAndLoneDollarsStayAsWritten) {
  EXPECT_EQ(ExpandEnvVars("$HOME/a${DATA}b$NOPE ${NOPE} $ $1", Sample),
            "/home/ops/a/data/inb$NOPE ${NOPE} $ $1");
  EXPECT_EQ(ExpandEnvVars("cost: 5$", Sample), "cost: 5$");
  EXPECT_EQ(ExpandEnvVars("$$HOME", Sample), "$/home/ops");
  EXPECT_EQ(ExpandEnvVars("${}", Sample), "${}");
}

TEST(ExpandEnvVarsTest, AnUnclosedBraceEndsTheExpansion) {
  EXPECT_EQ(ExpandEnvVars("$HOME ${HOME $DATA", Sample), "/home/ops ${HOME $DATA");
}

TEST(ExpandEnvVarsTest, TheProcessEnvironmentExpandsUnsetToNothing) {
  setenv("VERDI_T_X", "/opt/x", 1);
  unsetenv("VERDI_T_UNSET");
  EXPECT_EQ(ExpandEnvVars("$VERDI_T_X/bin/${VERDI_T_X}/e $ end"), "/opt/x/bin//opt/x/e $ end");
  EXPECT_EQ(ExpandEnvVars("[$VERDI_T_UNSET][${VERDI_T_UNSET}]"), "[][]");
}

}  // namespace
}  // namespace verdi
