#include "verdi/job/run_processors.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// Hooks that record what ran; a Python function in `refuse` returns false,
// one in `raise` fails.
struct Recorder {
  std::vector<std::string> ran;
  std::vector<std::string> refuse, raise;

  ProcessorHooks Hooks() {
    return {[this](BuiltinProcessor builtin) {
              ran.push_back("builtin " + std::to_string(static_cast<int>(builtin)));
              return Status::OK();
            },
            [this](const std::string& name, bool* proceed) {
              ran.push_back(name);
              for (const auto& r : raise)
                if (r == name) return Status::Failed(name + " raised");
              for (const auto& r : refuse)
                if (r == name) *proceed = false;
              return Status::OK();
            }};
  }
};

TEST(RunProcessorsTest, BuiltinsByTheirOwnStepOthersAsPythonInOrder) {
  Recorder r;
  bool proceed = false;
  Status st = RunProcessors(ProcessorPhase::kPre,
                            {"a.first", "hysds.localize.localize_urls", "b.second",
                             "hysds.triage.triage", "hysds.utils.mark_localized_datasets"},
                            "j", r.Hooks(), &proceed);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(proceed);
  EXPECT_EQ(r.ran,
            (std::vector<std::string>{
                "a.first", "builtin " + std::to_string(int(BuiltinProcessor::kLocalizeUrls)),
                "b.second", "builtin " + std::to_string(int(BuiltinProcessor::kTriage)),
                "builtin " + std::to_string(int(BuiltinProcessor::kMarkLocalizedDatasets))}));
}

TEST(RunProcessorsTest, AFalseOneLetsTheRestRunAndSaysNoAtTheEnd) {
  Recorder r;
  r.refuse = {"a.no"};
  bool proceed = true;
  Status st = RunProcessors(ProcessorPhase::kPre, {"a.no", "b.yes"}, "j", r.Hooks(), &proceed);
  EXPECT_TRUE(st.ok());
  EXPECT_FALSE(proceed);
  EXPECT_EQ(r.ran, (std::vector<std::string>{"a.no", "b.yes"}));
}

TEST(RunProcessorsTest, TheFirstFailureEndsThePhaseWithItsError) {
  Recorder r;
  r.raise = {"b.bad"};
  bool proceed = false;
  Status st =
      RunProcessors(ProcessorPhase::kPost, {"a.ok", "b.bad", "c.never"}, "j", r.Hooks(), &proceed);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "b.bad raised");
  EXPECT_EQ(r.ran, (std::vector<std::string>{"a.ok", "b.bad"}));
}

TEST(RunProcessorsTest, NoProcessorsProceed) {
  Recorder r;
  bool proceed = false;
  EXPECT_TRUE(RunProcessors(ProcessorPhase::kPost, {}, "j", r.Hooks(), &proceed).ok());
  EXPECT_TRUE(proceed);
  EXPECT_TRUE(r.ran.empty());
}

}  // namespace
}  // namespace verdi
