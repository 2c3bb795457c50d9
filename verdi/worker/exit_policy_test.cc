#include "verdi/worker/exit_policy.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

using std::chrono::seconds;
using Clock = ExitPolicy::Clock;

TEST(ExitPolicyTest, IdleCountsFromTheFirstConnectionAndRestartsWithWork) {
  ExitPolicySettings s;
  s.idle = std::chrono::milliseconds(10000);
  ExitPolicy p(s);
  Clock::time_point t0{seconds(1000)};
  EXPECT_FALSE(p.IdleLongEnough(0, t0 + seconds(100)));  // never connected: never idle
  p.Connected(t0);
  EXPECT_FALSE(p.IdleLongEnough(0, t0 + seconds(9)));
  EXPECT_FALSE(p.IdleLongEnough(1, t0 + seconds(9)));  // a job: the clock starts again
  EXPECT_FALSE(p.IdleLongEnough(0, t0 + seconds(18)));
  EXPECT_TRUE(p.IdleLongEnough(0, t0 + seconds(19)));
  p.Touch(t0 + seconds(19));  // an echoed message
  EXPECT_FALSE(p.IdleLongEnough(0, t0 + seconds(28)));
  p.Connected(t0 + seconds(28));  // a reconnect does not restart it
  EXPECT_TRUE(p.IdleLongEnough(0, t0 + seconds(29)));
}

TEST(ExitPolicyTest, NoIdleExitWithoutTheOption) {
  ExitPolicy p(ExitPolicySettings{});
  p.Connected(Clock::time_point{});
  EXPECT_FALSE(p.IdleLongEnough(0, Clock::time_point{seconds(1000000)}));
}

TEST(ExitPolicyTest, TheLastRunIsReportedOnce) {
  ExitPolicySettings s;
  s.max_runs = 2;
  ExitPolicy p(s);
  EXPECT_FALSE(p.RunTaken());
  EXPECT_FALSE(p.QuotaReached());
  EXPECT_TRUE(p.RunTaken());
  EXPECT_TRUE(p.QuotaReached());
  EXPECT_FALSE(p.RunTaken());
  ExitPolicy unlimited(ExitPolicySettings{});
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(unlimited.RunTaken());
}

TEST(ExitPolicyTest, InfrastructureErrorsStopOnlyWithExitOnException) {
  ExitPolicy lenient(ExitPolicySettings{});
  EXPECT_FALSE(lenient.InfrastructureError("disk gone"));
  EXPECT_FALSE(lenient.StopReason());

  ExitPolicySettings s;
  s.exit_on_exception = true;
  ExitPolicy strict(s);
  EXPECT_TRUE(strict.InfrastructureError("first"));
  strict.InfrastructureError("second");
  ASSERT_TRUE(strict.StopReason());
  EXPECT_EQ(*strict.StopReason(), "first");
}

TEST(ExitPolicyTest, TheBrokerIsGoneAfterTheAttemptsInARow) {
  ExitPolicySettings s;
  s.exit_on_exception = true;
  s.reconnect_attempts = 3;
  ExitPolicy p(s);
  EXPECT_FALSE(p.ConnectFailed("refused"));
  EXPECT_FALSE(p.ConnectFailed("refused"));
  p.Connected(Clock::time_point{});  // back: counted from zero again
  EXPECT_FALSE(p.ConnectFailed("refused"));
  EXPECT_FALSE(p.ConnectFailed("refused"));
  EXPECT_TRUE(p.ConnectFailed("connection refused"));
  ASSERT_TRUE(p.StopReason());
  EXPECT_NE(p.StopReason()->find("3 connection attempts in a row failed"), std::string::npos);
  EXPECT_NE(p.StopReason()->find("connection refused"), std::string::npos);

  s.exit_on_exception = false;
  ExitPolicy patient(s);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(patient.ConnectFailed("refused"));
}

}  // namespace
}  // namespace verdi
