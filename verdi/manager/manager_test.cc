#include "verdi/manager/manager.h"

#include <gtest/gtest.h>

#include "verdi/manager/backend_kubernetes.h"
#include "verdi/manager/backend_slurm.h"

namespace verdi {
namespace {

ManagerDecision Decide(int waiting, int workers, int pending, std::optional<double> since,
                       ManagerRules rules = {1, 4, 10}) {
  return DecideLaunch(rules, ManagerView{waiting, workers, pending, since});
}

// Seed 004's rules, one by one.
TEST(ManagerRulesTest, LaunchesWhenJobsWait) {
  EXPECT_TRUE(Decide(5, 1, 0, std::nullopt).launch);
  EXPECT_TRUE(Decide(5, 1, 0, 10.0).launch);
  EXPECT_EQ(Decide(5, 1, 0, 10.0).why, "launch: 5 jobs waiting");
}

TEST(ManagerRulesTest, NotFasterThanMinSecondsBetweenWorkers) {
  ManagerDecision d = Decide(5, 1, 0, 9.5);
  EXPECT_FALSE(d.launch);
  EXPECT_EQ(d.why, "don't launch: 9.5 s < 10 s since the last worker");
}

TEST(ManagerRulesTest, NotWhilePendingWorkersCoverTheWaitingJobs) {
  EXPECT_FALSE(Decide(2, 3, 2, 60.0).launch);
  EXPECT_TRUE(Decide(3, 3, 2, 60.0).launch);
}

TEST(ManagerRulesTest, NeverPastTheMaximum) {
  ManagerDecision d = Decide(100, 4, 0, 60.0);
  EXPECT_FALSE(d.launch);
  EXPECT_EQ(d.why, "don't launch: 4 workers already (max 4)");
}

TEST(ManagerRulesTest, AlwaysUpToTheMinimum) {
  ManagerRules rules{2, 4, 60};
  EXPECT_TRUE(Decide(0, 1, 1, 0.1, rules).launch);  // nothing waits, too soon, pending: still
  EXPECT_FALSE(Decide(0, 2, 0, 100.0, rules).launch);
  EXPECT_EQ(Decide(0, 2, 0, 100.0, rules).why, "no job waiting");
  EXPECT_FALSE(Decide(0, 0, 0, std::nullopt, ManagerRules{0, 4, 60}).launch);
}

TEST(SlurmBackendTest, ScriptAndSbatchQuoteEverything) {
  SlurmOptions o;
  o.verdi_path = "/opt/verdi bin/verdi";
  o.log_dir = "/logs";
  o.partition = "debug";
  o.sbatch_args = {"--exclusive"};
  WorkerLaunch launch{"verdi-slurm-1",
                      {"-Q", "a,b", "-n", "verdi-slurm-1@%h"},
                      {{"CELERY_BROKER_URL", "amqp://u:p'w@h//"}}};
  EXPECT_EQ(SlurmWorkerScript(o, launch),
            "#!/bin/sh\n# one verdi worker, started by verdi manager\n"
            "export CELERY_BROKER_URL='amqp://u:p'\"'\"'w@h//'\n"
            "exec '/opt/verdi bin/verdi' worker -Q a,b -n verdi-slurm-1@%h\n");
  EXPECT_EQ(SbatchArgv(o, launch, "/s/x.sh"),
            (std::vector<std::string>{"sbatch", "--parsable", "--job-name=verdi-worker",
                                      "--output=/logs/verdi-slurm-1-%j.log", "--partition=debug",
                                      "--exclusive", "/s/x.sh"}));
}

TEST(SlurmBackendTest, SqueueStates) {
  std::vector<WorkerJob> w;
  ASSERT_TRUE(
      ParseSqueue("12|PENDING\n13|RUNNING\n14|COMPLETING\n15|CANCELLED\n16|CONFIGURING\n", &w)
          .ok());
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].id, "12");
  EXPECT_FALSE(w[0].active);
  EXPECT_TRUE(w[1].active);
  EXPECT_TRUE(w[2].active);
  EXPECT_FALSE(w[3].active);  // 16, configuring
  EXPECT_FALSE(ParseSqueue("garbage\n", &w).ok());
}

TEST(KubernetesBackendTest, JobManifest) {
  KubernetesOptions o;
  o.image = "registry.example/verdi:1";
  o.namespace_ = "jobs";
  o.cpu = "1";
  o.memory = "2Gi";
  WorkerLaunch launch{"verdi-kubernetes-ab12", {"-Q", "q"}, {{"CELERY_BROKER_URL", "amqp://x"}}};
  Json m = KubernetesJobManifest(o, launch);
  EXPECT_EQ(m["apiVersion"], "batch/v1");
  EXPECT_EQ(m["kind"], "Job");
  EXPECT_EQ(m["metadata"]["name"], "verdi-kubernetes-ab12");
  EXPECT_EQ(m["metadata"]["namespace"], "jobs");
  EXPECT_EQ(m["metadata"]["labels"]["verdi-manager"], "verdi-worker");
  EXPECT_EQ(m["spec"]["backoffLimit"], 0);
  const Json& pod = m["spec"]["template"];
  EXPECT_EQ(pod["metadata"]["labels"]["verdi-manager"], "verdi-worker");
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Never");
  const Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "registry.example/verdi:1");
  EXPECT_EQ(c["command"], Json::array({"verdi", "worker", "-Q", "q", "--metrics-port", "9808"}));
  EXPECT_EQ(c["ports"][0], Json({{"name", "metrics"}, {"containerPort", 9808}}));
  EXPECT_EQ(c["livenessProbe"]["httpGet"], Json({{"path", "/healthz"}, {"port", "metrics"}}));
  EXPECT_EQ(c["readinessProbe"]["httpGet"], Json({{"path", "/readyz"}, {"port", "metrics"}}));
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 660);  // warm shutdown + 60 s
  EXPECT_EQ(pod["spec"]["shareProcessNamespace"], true);
  EXPECT_EQ(c["env"][0], Json({{"name", "CELERY_BROKER_URL"}, {"value", "amqp://x"}}));
  EXPECT_EQ(c["resources"]["limits"]["memory"], "2Gi");
  o.broker_secret = "rabbit";
  Json s = KubernetesJobManifest(o, launch);
  EXPECT_EQ(s["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"],
            Json({{"name", "rabbit"}, {"key", "broker_url"}}));
}

TEST(KubernetesBackendTest, JobManifestTakesTheWorkersOwnPortAndShutdownTimeout) {
  KubernetesOptions o;
  EXPECT_EQ(o.image, "localhost/verdi:" VERDI_VERSION);  // scripts/image's
  WorkerLaunch launch{"verdi-kubernetes-cd34",
                      {"--metrics-port=9100", "--shutdown-timeout", "1200", "-Q", "q"},
                      {}};
  Json m = KubernetesJobManifest(o, launch);
  const Json& c = m["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"],
            Json::array({"verdi", "worker", "--metrics-port=9100", "--shutdown-timeout", "1200",
                         "-Q", "q"}));  // no second --metrics-port
  EXPECT_EQ(c["ports"][0]["containerPort"], 9100);
  EXPECT_EQ(m["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 1260);
}

TEST(KubernetesBackendTest, PodPhases) {
  Json list = {{"kind", "List"},
               {"items",
                {{{"metadata", {{"name", "a"}}}, {"status", {{"phase", "Pending"}}}},
                 {{"metadata", {{"name", "b"}}}, {"status", {{"phase", "Running"}}}},
                 {{"metadata", {{"name", "c"}}}, {"status", {{"phase", "Succeeded"}}}}}}};
  std::vector<WorkerJob> w;
  ASSERT_TRUE(ParsePodList(list, &w).ok());
  ASSERT_EQ(w.size(), 2u);
  EXPECT_FALSE(w[0].active);
  EXPECT_TRUE(w[1].active);
  EXPECT_FALSE(ParsePodList(Json("nope"), &w).ok());
}

}  // namespace
}  // namespace verdi
