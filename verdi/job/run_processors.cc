#include "verdi/job/run_processors.h"

#include "base/log.h"

namespace verdi {

Status RunProcessors(ProcessorPhase phase, const std::vector<std::string>& names,
                     const std::string& job_id, const ProcessorHooks& hooks, bool* proceed) {
  *proceed = true;
  std::vector<std::string> stopped;  // those that did not signal continuation
  Status st;
  for (const std::string& name : names) {
    LogInfo("job {}: running {} {}", job_id, ProcessorLabel(phase), name);
    bool signalled = true;
    BuiltinProcessor builtin = FindBuiltinProcessor(name);
    st = builtin != BuiltinProcessor::kNone ? hooks.builtin(builtin)
                                            : hooks.python(name, &signalled);
    if (!st.ok()) break;
    if (!signalled) stopped.push_back(name);
  }
  if (!stopped.empty()) {
    *proceed = false;
    std::string list;
    for (const std::string& name : stopped) list += (list.empty() ? "" : ", ") + name;
    LogInfo("job {}: {} steps that didn't signal continuation: {}", job_id,
            phase == ProcessorPhase::kPre ? "pre-processing" : "post-processing", list);
  }
  return st;
}

}  // namespace verdi
