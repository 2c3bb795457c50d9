#include "verdi/worker/job_runner.h"

#include "jobspec/job_status.h"

namespace verdi {

JobRun PipelineRunner::Run(Json payload, Interrupts* stop) {
  JobRun run;
  PreparedJob prepared;
  Status st = PrepareJob(payload, *settings_, &prepared);
  if (!st.ok()) {
    run.job = std::move(payload);
    run.outcome.status = kJobFailed;
    run.outcome.exit_code = 1;
    run.outcome.error = st.message();
    return run;
  }
  run.prepared = true;
  run.outcome = RunPreparedJob(&prepared, *settings_, stop);
  run.job = std::move(prepared.job.doc);
  return run;
}

}  // namespace verdi
