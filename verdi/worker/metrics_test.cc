#include "verdi/worker/metrics.h"

#include <string>

#include <gtest/gtest.h>

#include "base/timestamp.h"

namespace verdi {
namespace {

TEST(WorkerMetricsTest, PhasesAndQueueLag) {
  WorkerMetrics m(2, nullptr);
  Json job = {{"job_info",
               {{"time_start", "2024-01-01T00:00:00.000000Z"},
                {"cmd_start", "2024-01-01T00:00:01.000000Z"},
                {"cmd_end", "2024-01-01T00:00:11.000000Z"},
                {"time_end", "2024-01-01T00:00:11.500000Z"},
                {"duration", 11.5}}}};
  m.Finished(job, JobOutcome{});
  m.JobEnded("job-completed");
  TaskMessage task;
  task.args = Json::array({{{"job_info", {{"time_queued", "2024-01-01T00:00:00.000000Z"}}}}});
  WallClock::time_point now;
  ASSERT_TRUE(ParseIsoTime("2024-01-01T00:00:02.5Z", &now));
  m.Received(task, now);
  TaskMessage bare;  // no time_queued, no eta: not observed
  bare.args = Json::array({Json::object()});
  m.Received(bare, now);
  m.Update(1, nullptr);
  std::string text = m.registry().Render();
  EXPECT_NE(text.find("verdi_jobs_total{status=\"job-completed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_jobs_total{status=\"job-failed\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_job_duration_seconds_sum 11.5\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_job_phase_duration_seconds_sum{phase=\"setup\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("verdi_job_phase_duration_seconds_sum{phase=\"command\"} 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("verdi_job_phase_duration_seconds_sum{phase=\"closeout\"} 0.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("verdi_queue_lag_seconds_sum 2.5\nverdi_queue_lag_seconds_count 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("verdi_active_slots 1\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_slots 2\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_bytes_localized_total 0\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_bytes_published_total 0\n"), std::string::npos);
  EXPECT_EQ(text.find("\nverdi_status_buffer_depth "), std::string::npos);  // no sink
}

}  // namespace
}  // namespace verdi
