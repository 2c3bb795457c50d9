#include <string>

#include <gtest/gtest.h>

#include "redis/redis_client.h"

namespace verdi {
namespace {

TEST(IsTransientRedisErrorTest, ServerStateErrorsAreTransient) {
  for (const char* reply : {
           "LOADING Redis is loading the dataset in memory",
           "READONLY You can't write against a read only replica.",
           "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
           "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
           "TRYAGAIN Multiple keys request during rehashing of slot",
           "CLUSTERDOWN The cluster is down", "NOAUTH Authentication required.",
           "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist",
           "OOM command not allowed when used memory > 'maxmemory'.",
           "LOADING",  // the code alone
       }) {
    EXPECT_TRUE(IsTransientRedisError(reply)) << reply;
  }
}

TEST(IsTransientRedisErrorTest, CommandErrorsAreNot) {
  for (const char* reply : {
           "WRONGTYPE Operation against a key holding the wrong kind of value",
           "ERR unknown command 'FOO'",
           "ERR DB index is out of range",
           "WRONGPASS invalid username-password pair or user is disabled.",
           "NOPERM this user has no permissions to run the 'set' command",
           "EXECABORT Transaction discarded because of previous errors.",
           "BUSYKEY Target key name already exists.",  // starts like BUSY
           "OOMX not a real code",
           "loading in lower case",
           " LOADING after a space",
           "",
       }) {
    EXPECT_FALSE(IsTransientRedisError(reply)) << reply;
  }
}

}  // namespace
}  // namespace verdi
