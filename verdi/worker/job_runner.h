// The seam between a task and the job it runs. Job slots call the job
// pipeline through JobRunner, so the worker's decisions around a job (acks,
// requeues, revokes, dedup) can be tested with a fake in its place, as ninja
// tests its builder with a fake CommandRunner.
#pragma once

#include "jobspec/json_field.h"
#include "verdi/job/pipeline.h"
#include "verdi/process/interrupts.h"

namespace verdi {

/// What came of running one job payload.
struct JobRun {
  /// False when the payload was refused before anything was written (no
  /// work dir exists; `outcome.error` says what was wrong and where).
  bool prepared = false;
  /// The job as run (job_info filled in); the payload when not prepared.
  Json job;
  JobOutcome outcome;
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;
  /// Runs `payload` to its close-out, stoppable through `stop`. Called from
  /// any job slot at once: implementations are thread-safe.
  virtual JobRun Run(Json payload, Interrupts* stop) = 0;
};

/// The real runner: PrepareJob, then RunPreparedJob with `settings`.
class PipelineRunner : public JobRunner {
 public:
  explicit PipelineRunner(const PipelineSettings* settings) : settings_(settings) {}
  JobRun Run(Json payload, Interrupts* stop) override;

 private:
  const PipelineSettings* settings_;
};

}  // namespace verdi
