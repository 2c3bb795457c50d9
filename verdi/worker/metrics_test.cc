#include "verdi/worker/metrics.h"

#include <string>

#include <gtest/gtest.h>

#include "base/timestamp.h"

namespace verdi {
namespace {

TEST(WorkerMetricsTest, PhasesAndQueueLag) {
  WorkerMetrics m(2, nullptr);
  Json job = {{"type", "job-hello:v1"},
              {"job_info",
               {{"time_start", "2024-01-01T00:00:00.000000Z"},
                {"cmd_start", "2024-01-01T00:00:01.000000Z"},
                {"cmd_end", "2024-01-01T00:00:11.000000Z"},
                {"time_end", "2024-01-01T00:00:11.500000Z"},
                {"job_queue", "q1"},
                {"duration", 11.5},
                {"metrics",
                 {{"inputs_localized", {{{"disk_usage", 100}}, {{"disk_usage", 23}}}},
                  {"products_staged", {{{"disk_usage", 4000}}}}}}}}};
  JobOutcome completed;
  completed.status = "job-completed";
  m.Finished(job, completed);
  m.JobEnded("job-deduped");  // a task with no run of its own
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
  EXPECT_NE(
      text.find(
          "verdi_jobs_total{status=\"job-completed\",type=\"job-hello:v1\",queue=\"q1\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("verdi_jobs_total{status=\"job-deduped\",type=\"\",queue=\"\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("verdi_job_duration_seconds_sum{type=\"job-hello:v1\",queue=\"q1\"} 11.5\n"),
            std::string::npos);
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
  EXPECT_NE(text.find("verdi_localized_bytes_total 123\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_published_bytes_total 4000\n"), std::string::npos);
  EXPECT_NE(text.find("verdi_build_info{version=\""), std::string::npos);
  EXPECT_EQ(text.find("\nverdi_status_buffer_depth "), std::string::npos);  // no sink
}

TEST(WorkerMetricsTest, ReadyFollowsTheLastBeat) {
  WorkerMetrics m(1, nullptr);
  HealthChecks health = m.Health();
  EXPECT_EQ(health.ready(), "starting");
  m.Beat("not connected to the broker");
  EXPECT_EQ(health.alive(), "");
  EXPECT_EQ(health.ready(), "not connected to the broker");
  m.Beat("");
  EXPECT_EQ(health.ready(), "");
}

}  // namespace
}  // namespace verdi
