#include "publish/publish.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "publish/process_testing.h"
#include "tests/nginx_test_server.h"
#include "tests/test_files.h"

namespace verdi::publish {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

// Files under `dir`, relative, sorted ("" when it does not exist).
std::string Tree(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) names.push_back(fs::relative(it->path(), dir).string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_publish_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    dest_ = base_ / "dest";
    settings_.datasets_config_file = (base_ / "datasets.json").string();
    settings_.run = testing::RunForTest;
    settings_.hostname = "host1";
    settings_.upload.backoff_seconds = 0.05;
    settings_.index_backoff_seconds = 0.05;
    settings_.log = [this](const std::string& line) { log_ += line + "\n"; };
    Config("file://" + dest_.string());
  }
  void TearDown() override { fs::remove_all(base_); }

  // One entry for products named P<n>, publishing under `root`.
  void Config(const std::string& root, const std::string& location = "") {
    Json entry = {{"ipath", "hysds::data/prod"},
                  {"level", "l2"},
                  {"type", "thing"},
                  {"match_pattern", R"(/(?P<id>P(?P<n>\d+))$)"},
                  {"publish",
                   {{"location", location.empty() ? root + "/products/{version}/{id}" : location},
                    {"urls", {"http://{hostname}/products/{version}/{id}"}}}},
                  {"browse", {{"location", root + "/browse/{id}"}, {"urls", {"http://b/{id}"}}}}};
    Write(base_ / "datasets.json", Json({{"datasets", {entry}}}).dump());
  }

  // A fresh job dir with products P1..Pn, run by payload `payload`.
  fs::path Job(const std::string& name, int n, const std::string& payload,
               Json context = Json::object()) {
    fs::path dir = base_ / "jobs" / name;
    Write(dir / "_context.json", context.dump());
    for (int i = 1; i <= n; ++i) {
      std::string id = "P" + std::to_string(i);
      Write(dir / id / (id + ".dataset.json"), R"({"version": "v1", "label": ")" + id + "\"}");
      Write(dir / id / "data.txt", "data of " + id + " by " + payload + "\n");
    }
    job_ = {{"job_id", name},
            {"task_id", "task-" + name},
            {"job_info",
             {{"job_payload", {{"payload_task_id", payload}}},
              {"payload_hash", "h"},
              {"time_start", "2026-01-01T00:00:00.000000Z"},
              {"metrics", {{"products_staged", Json::array()}}}}}};
    context_ = context;
    return dir;
  }

  Status Publish(const fs::path& dir) { return PublishDatasets(settings_, dir, context_, &job_); }

  fs::path base_, dest_;
  PublishSettings settings_;
  Json job_, context_;
  std::string log_;
};

TEST_F(PublishTest, PublishesEveryProductWithItsDocumentAndMetrics) {
  fs::path dir = Job("j1", 2, "payload-a");
  Write(dir / "P1/P1.browse_small.png", "small");
  Write(dir / "P1/P1.browse.png", "big");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Tree(dest_ / "products/v1/P1"),
            "P1.browse.png\nP1.browse_small.png\nP1.context.json\nP1.dataset.json\n"
            "_publish.context.json\ndata.txt\n");
  EXPECT_EQ(Read(dest_ / "products/v1/P2/data.txt"), "data of P2 by payload-a\n");
  EXPECT_EQ(Tree(dest_ / "browse/P1"), "P1.browse_small.png\n");  // only the small one
  Json claim = Json::parse(Read(dest_ / "products/v1/P1/_publish.context.json"));
  EXPECT_EQ(claim["payload_id"], "payload-a");
  EXPECT_EQ(claim["task_id"], "task-j1");

  Json docs = Json::parse(Read(dir / "_datasets.json"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["id"], "P1");
  EXPECT_EQ(docs[0]["dataset"], "prod");
  EXPECT_EQ(docs[0]["ipath"], "hysds::data/prod");
  EXPECT_EQ(docs[0]["system_version"], "v1");
  EXPECT_EQ(docs[0]["dataset_level"], "l2");
  EXPECT_EQ(docs[0]["label"], "P1");
  EXPECT_EQ(docs[0]["urls"], Json({"http://host1/products/v1/P1"}));
  EXPECT_EQ(docs[0]["browse_urls"], Json({"http://b/P1"}));
  EXPECT_EQ(docs[0]["images"], Json::parse(R"([{"img": "P1.browse.png",
      "small_img": "P1.browse_small.png", "tooltip": "P1"}])"));
  EXPECT_EQ(docs[0]["grq_index_result"], Json::parse(R"({"index": null})"));
  const Json& staged = job_["job_info"]["metrics"]["products_staged"];
  ASSERT_EQ(staged.size(), 2u);
  EXPECT_EQ(staged[1]["id"], "P2");
  EXPECT_EQ(staged[1]["path"], (dir / "P2").string());
  EXPECT_GT(staged[1]["disk_usage"].get<int>(), 0);
  // One flat object, the last product's, as HySDS writes it.
  const Json& prov = job_["job_info"]["metrics"]["product_provenance"];
  EXPECT_EQ(prov["product_type"], "hysds::data/prod");
  EXPECT_EQ(prov["processing_start_time"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(prov["availability_time"], staged[1]["time_end"]);
  EXPECT_GT(prov["processing_latency"].get<double>(), 0);
  EXPECT_EQ(prov["total_latency"], prov["processing_latency"]);
  EXPECT_EQ(prov.size(), 5u);
}

TEST_F(PublishTest, ProductProvenanceAddsTheLatenciesOfItsProdProvJson) {
  fs::path dir = Job("j1", 1, "payload-a");
  job_["job_info"]["time_start"] = "2026-01-01T00:00:00Z";
  Write(dir / "P1/P1.prod_prov.json", R"({"acquisition_start_time": "2025-12-31T22:00:00Z",
      "source_production_time": "2025-12-31T23:30:00.5Z", "mission": "m"})");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  const Json& prov = job_["job_info"]["metrics"]["product_provenance"];
  EXPECT_EQ(prov["mission"], "m");
  EXPECT_DOUBLE_EQ(prov["ground_system_latency"].get<double>(), 5400.5 / 60);
  double processing = prov["processing_latency"].get<double>();
  EXPECT_NEAR(prov["access_latency"].get<double>(), processing + 1799.5 / 60, 1e-6);
  EXPECT_NEAR(prov["total_latency"].get<double>(),
              processing + prov["ground_system_latency"].get<double>() +
                  prov["access_latency"].get<double>(),
              1e-9);

  Write(dir / "P1/P1.prod_prov.json", R"({"acquisition_start_time": "yesterday",
      "source_production_time": "2025-12-31T23:30:00Z"})");
  context_["_force_ingest"] = true;
  st = Publish(dir);
  EXPECT_NE(st.message().find("product P1: P1.prod_prov.json: acquisition_start_time and "
                              "source_production_time must be times"),
            std::string::npos)
      << st.message();
}

TEST_F(PublishTest, BrowseImagesAsHysdsListsThem) {
  fs::path dir = Job("j1", 1, "payload-a");
  Write(dir / "P1/P1.browse.png", "big");              // with its small image
  Write(dir / "P1/P1.unw.browse.png", "big");          // without one
  Write(dir / "P1/P1.cor.browse_small.png", "small");  // no full-size image: not listed
  Write(dir / "P1/P1.browse_small.png", "small");
  Write(dir / "P1/sub/P1.sub.browse.png", "deeper: not an image of the product");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Tree(dest_ / "browse/P1"), "P1.browse_small.png\n");
  Json docs = Json::parse(Read(dir / "_datasets.json"));
  EXPECT_EQ(docs[0]["images"], Json::parse(R"([
      {"img": "P1.browse.png", "small_img": "P1.browse_small.png", "tooltip": "P1"},
      {"img": "P1.unw.browse.png", "small_img": null, "tooltip": "P1.unw"}])"));
}

TEST_F(PublishTest, NoProductsWritesAnEmptyList) {
  fs::path dir = Job("j0", 0, "payload-a");
  ASSERT_TRUE(Publish(dir).ok());
  EXPECT_EQ(Json::parse(Read(dir / "_datasets.json")), Json::array());
}

TEST_F(PublishTest, ProductOfAnotherPayloadIsNotReplaced) {
  ASSERT_TRUE(Publish(Job("j1", 1, "payload-a")).ok());
  Status st = Publish(Job("j2", 2, "payload-b"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1 already exists at file://" +
                              (dest_ / "products/v1/P1").string()),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("payload-a"), std::string::npos) << st.message();
  EXPECT_EQ(Read(dest_ / "products/v1/P1/data.txt"), "data of P1 by payload-a\n");
  EXPECT_FALSE(fs::exists(dest_ / "products/v1/P2"));
}

TEST_F(PublishTest, RetryOfTheSamePayloadReplaces) {
  ASSERT_TRUE(Publish(Job("j1", 1, "payload-a")).ok());
  fs::path dir = Job("j1-retry", 1, "payload-a");
  Write(dir / "P1/data.txt", "second try\n");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dest_ / "products/v1/P1/data.txt"), "second try\n");
  EXPECT_NE(log_.find("replacing it (a retry of the same payload)"), std::string::npos) << log_;
}

TEST_F(PublishTest, ForceIngestReplaces) {
  ASSERT_TRUE(Publish(Job("j1", 1, "payload-a")).ok());
  Status st = Publish(Job("j2", 1, "payload-b", {{"_force_ingest", true}}));
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dest_ / "products/v1/P1/data.txt"), "data of P1 by payload-b\n");
  EXPECT_EQ(Json::parse(Read(dest_ / "products/v1/P1/_publish.context.json"))["payload_id"],
            "payload-b");
}

TEST_F(PublishTest, UnknownTemplateFieldFailsBeforeAnyUpload) {
  Config("", "file://" + dest_.string() + "/{id}/{dataset[nope]}");
  Status st = Publish(Job("j1", 2, "payload-a"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1: " + settings_.datasets_config_file +
                              ": datasets[0] (ipath hysds::data/prod).publish.location: unknown "
                              "field `{dataset[nope]}`"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(dest_));
}

TEST_F(PublishTest, MissingVersionFails) {
  fs::path dir = Job("j1", 1, "payload-a");
  Write(dir / "P1/P1.dataset.json", "{}");
  Status st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("P1.dataset.json: version is missing"), std::string::npos)
      << st.message();
}

TEST_F(PublishTest, WebDavThirdOfFiveFailsAndNothingRemains) {
  verdi::testing::NginxServer nginx({"/P3/"});
  ASSERT_FALSE(nginx.url().empty()) << Read(nginx.dir() / "error.log");
  Config(nginx.url() + "/data");
  Status st = Publish(Job("j1", 5, "payload-a"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("P3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("403"), std::string::npos) << st.message();
  EXPECT_EQ(Tree(nginx.root() / "data"), "") << log_;
  EXPECT_NE(log_.find("rolled back " + nginx.url() + "/data/products/v1/P2"), std::string::npos)
      << log_;
  EXPECT_FALSE(fs::exists(base_ / "jobs/j1/_datasets.json"));
}

TEST_F(PublishTest, WebDavIndexedOrRolledBack) {
  verdi::testing::NginxServer nginx;
  ASSERT_FALSE(nginx.url().empty()) << Read(nginx.dir() / "error.log");
  Config("dav://" + nginx.url().substr(7) + "/data");
  settings_.grq_update_url_bulk = nginx.url() + "/grq/fail";
  settings_.index_tries = 2;
  Status st = Publish(Job("j1", 2, "payload-a"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("indexing the products at " + nginx.url() +
                              "/grq/fail: HTTP 500 (after 2 tries)"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(Tree(nginx.root() / "data"), "");

  settings_.grq_update_url_bulk = nginx.url() + "/grq/ok";
  st = Publish(Job("j2", 2, "payload-a"));
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(nginx.root() / "data/products/v1/P2/data.txt"), "data of P2 by payload-a\n");
  // nginx logs a request just after answering it.
  std::string access;
  for (int i = 0; i < 100 && access.find("POST /grq/ok") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    access = Read(nginx.dir() / "access.log");
  }
  EXPECT_NE(access.find("POST /grq/ok"), std::string::npos) << access;
}

TEST_F(PublishTest, TriageOfAFailedJob) {
  Json entry = {{"ipath", "hysds::data/triaged_job"},
                {"match_pattern", R"(/(?P<id>triaged_job-.+)$)"},
                {"publish", {{"location", "file://" + dest_.string() + "/triage/{id}"}}}};
  Write(base_ / "datasets.json", Json({{"datasets", {entry}}}).dump());
  fs::path dir = Job("j1", 0, "payload-a", {{"_triage_additional_globs", {"extra/*.txt"}}});
  Write(dir / "_stderr.txt", "boom\n");
  Write(dir / "run.log", "log\n");
  Write(dir / "extra/notes.txt", "notes\n");
  Write(dir / "other.dat", "not triaged\n");
  job_["job_info"]["status"] = 3;
  Status st = TriageJob(settings_, dir, context_, &job_);
  ASSERT_TRUE(st.ok()) << st.message();
  std::string id = "triaged_job-j1_task-task-j1";
  Json dataset = Json::parse(Read(dir / id / (id + ".dataset.json")));
  EXPECT_EQ(dataset, Json::parse(R"({"version": "v3.3.2", "label": "triage for job j1"})"));
  EXPECT_EQ(Tree(dest_ / "triage" / id),
            "_context.json\n_publish.context.json\n_stderr.txt\nnotes.txt\nrun.log\n" + id +
                ".context.json\n" + id + ".dataset.json\n" + id + ".met.json\n");
  Json triaged = Json::parse(Read(dir / "_triaged.json"));
  EXPECT_EQ(triaged["id"], id);
  // Triage replaces an earlier one whoever made it.
  job_["job_info"]["job_payload"]["payload_task_id"] = "payload-b";
  st = TriageJob(settings_, dir, context_, &job_);
  ASSERT_TRUE(st.ok()) << st.message();

  Json off = {{"_triage_disabled", true}};
  fs::remove(dir / "_triaged.json");
  ASSERT_TRUE(TriageJob(settings_, dir, off, &job_).ok());
  EXPECT_FALSE(fs::exists(dir / "_triaged.json"));
}

TEST_F(PublishTest, TriageIdVersionAndPartitionAsHysds) {
  Json entry = {{"ipath", "hysds::data/triaged_job"},
                {"match_pattern", R"(/(?P<id>triaged_job-.+)$)"},
                {"publish", {{"location", "file://" + dest_.string() + "/{version}/{id}"}}}};
  Write(base_ / "datasets.json", Json({{"datasets", {entry}}}).dump());
  // A retry of a triage job: job_info.id names the job it triaged.
  fs::path dir = Job("j2", 0, "payload-a", {{"_triage_id_format", "triaged-{nope}"}});
  job_["job_info"]["id"] = "triaged_job-orig-job_task-abc";
  job_["job_info"]["status"] = 1;
  job_["job_info"]["cmd_start"] = "2026-01-01T00:00:01.000000Z";
  job_["job_info"]["cmd_end"] = "2026-01-01T00:00:02.000000Z";
  settings_.triage_version = "v9.9";
  settings_.triage_partition_format = "%Y";
  Status st = TriageJob(settings_, dir, context_, &job_);
  ASSERT_TRUE(st.ok()) << st.message();
  std::string id = "triaged_job-orig-job_task-task-j2";  // the default, as the format fails
  EXPECT_NE(log_.find("triage: _triage_id_format: "), std::string::npos) << log_;
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::string year = std::to_string(1900 + utc.tm_year);
  EXPECT_EQ(Json::parse(Read(dest_ / "v9.9" / id / (id + ".dataset.json"))),
            Json({{"version", "v9.9"},
                  {"label", "triage for job orig-job"},
                  {"starttime", "2026-01-01T00:00:01.000000Z"},
                  {"endtime", "2026-01-01T00:00:02.000000Z"},
                  {"index", {{"suffix", "v9.9_" + year + "_triaged_job"}}}}));
  Json triaged = Json::parse(Read(dir / "_triaged.json"));
  EXPECT_EQ(triaged["index"], Json({{"suffix", "v9.9_" + year + "_triaged_job"}}));
  EXPECT_EQ(job_["job_info"]["metrics"]["product_provenance"]["product_type"],
            "hysds::data/triaged_job");
}

// Everything under `dir` (files and links), with the content of each file.
std::string Everything(const fs::path& dir) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    out += it->path().string() + "=" + (it->is_regular_file() ? Read(it->path()) : "") + "\n";
  return out;
}

class PublishAttackTest : public PublishTest {
 protected:
  void SetUp() override {
    PublishTest::SetUp();
    host_ = base_ / "host";
    Write(host_ / "secret.json", kSecret);
  }
  // Nothing of the host file anywhere in the publish store, and the host
  // file as it was.
  void ExpectContained() {
    EXPECT_EQ(Everything(dest_).find("HOST-SECRET"), std::string::npos) << Everything(dest_);
    EXPECT_EQ(Read(host_ / "secret.json"), kSecret);
    EXPECT_EQ(Tree(host_), "secret.json\n");
  }
  static constexpr const char* kSecret = R"({"version": "v1", "secret": "HOST-SECRET"})";
  fs::path host_;
};

TEST_F(PublishAttackTest, SymlinkedDatasetOrMetJsonIsRefused) {
  for (const char* name : {"P1.dataset.json", "P1.met.json"}) {
    fs::path dir = Job(std::string("j-") + name, 1, "payload-a");
    fs::remove(dir / "P1" / name);
    fs::create_symlink(host_ / "secret.json", dir / "P1" / name);
    Status st = Publish(dir);
    ASSERT_FALSE(st.ok()) << name;
    EXPECT_NE(st.message().find("product P1: " + (dir / "P1" / name).string() +
                                ": is or goes through a symlink: refused"),
              std::string::npos)
        << st.message();
    ExpectContained();
    EXPECT_FALSE(fs::exists(dest_ / "products"));
  }
}

TEST_F(PublishAttackTest, SymlinkedContextJsonIsReplacedNotWrittenThrough) {
  fs::path dir = Job("j1", 1, "payload-a", {{"mine", "job context"}});
  fs::create_symlink(host_ / "secret.json", dir / "P1/P1.context.json");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  ExpectContained();
  EXPECT_EQ(Json::parse(Read(dest_ / "products/v1/P1/P1.context.json"))["mine"], "job context");
  // The job's own _context.json as a link: refused.
  fs::path dir2 = Job("j2", 1, "payload-b");
  fs::remove(dir2 / "_context.json");
  fs::create_symlink(host_ / "secret.json", dir2 / "_context.json");
  Config("file://" + (dest_ / "second").string());
  st = Publish(dir2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("_context.json: is or goes through a symlink"), std::string::npos)
      << st.message();
  ExpectContained();
  EXPECT_FALSE(fs::exists(dest_ / "second"));
}

TEST_F(PublishAttackTest, ProductDirLinkedOutsideIsRefused) {
  fs::path dir = Job("j1", 0, "payload-a");
  Write(base_ / "elsewhere/P7/P7.dataset.json", kSecret);
  fs::create_directory_symlink(base_ / "elsewhere/P7", dir / "P7");
  Status st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("outside the job dir: refused"), std::string::npos) << st.message();
  ExpectContained();
}

TEST_F(PublishAttackTest, FifoMetJsonFailsWithinBoundedTime) {
  for (const char* name : {"P1.met.json", "P1.dataset.json"}) {
    fs::path dir = Job(std::string("j-") + name, 1, "payload-a");
    fs::remove(dir / "P1" / name);
    ASSERT_EQ(mkfifo((dir / "P1" / name).c_str(), 0644), 0);
    auto t0 = std::chrono::steady_clock::now();
    Status st = Publish(dir);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("product P1: " + (dir / "P1" / name).string() +
                                ": is a FIFO, not a regular file: refused"),
              std::string::npos)
        << st.message();
  }
}

TEST_F(PublishAttackTest, VersionThatClimbsIsRefusedNamingProductFieldAndValue) {
  // As examples/*/datasets.json uses {version}.
  fs::path dir = Job("j1", 1, "payload-a");
  Write(dir / "P1/P1.dataset.json", R"({"version": "../../../../x"})");
  Status st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("product P1: " + settings_.datasets_config_file +
                              ": datasets[0] (ipath hysds::data/prod).publish.location: field "
                              "`{version}` is \"../../../../x\": `..` would climb out"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_EQ(Tree(base_),
            "datasets.json\nhost/secret.json\njobs/j1/P1/P1.dataset.json\n"
            "jobs/j1/P1/data.txt\njobs/j1/_context.json\n");
  // A met field, in the browse location.
  Config("file://" + dest_.string(), "file://" + dest_.string() + "/p/{met[sub]}/{id}");
  Write(dir / "P1/P1.dataset.json", R"({"version": "v1"})");
  Write(dir / "P1/P1.met.json", R"({"sub": "a/../../../b"})");
  st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("field `{met[sub]}` is \"a/../../../b\""), std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(dest_));
}

TEST_F(PublishAttackTest, ProductFilesLinkedOutsideAreNeverRead) {
  // A link to a directory outside, and a chain of links ending outside.
  fs::path dir = Job("j1", 1, "payload-a");
  fs::create_directory_symlink(host_, dir / "P1/sub");
  Status st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("P1/sub resolves to " + host_.string() + ", outside the job dir"),
            std::string::npos)
      << st.message();
  ExpectContained();
  fs::path dir2 = Job("j2", 1, "payload-a");
  fs::create_symlink(host_ / "secret.json", dir2 / "hop");
  fs::create_symlink(dir2 / "hop", dir2 / "P1/chain.json");
  st = Publish(dir2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("outside the job dir"), std::string::npos) << st.message();
  ExpectContained();
  // A link that stays inside the job dir still publishes what it points at.
  fs::path dir3 = Job("j3", 1, "payload-a");
  Write(dir3 / "shared/common.txt", "common\n");
  fs::create_symlink(dir3 / "shared/common.txt", dir3 / "P1/common.txt");
  st = Publish(dir3);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dest_ / "products/v1/P1/common.txt"), "common\n");
}

TEST_F(PublishAttackTest, FileNamesThatDecodeToDotDotStayInTheProduct) {
  // file:// paths are percent-decoded: "%2e%2e%2f" in a name must not climb.
  fs::path dir = Job("j1", 1, "payload-a");
  std::string name = "%2e%2e%2f%2e%2e%2f%2e%2e%2fescaped.txt";
  Write(dir / "P1" / name, "job data\n");
  Status st = Publish(dir);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Read(dest_ / "products/v1/P1" / name), "job data\n");
  EXPECT_EQ(("\n" + Tree(base_)).find("/escaped.txt\n"), std::string::npos) << Tree(base_);
  EXPECT_FALSE(fs::exists(dest_ / "escaped.txt"));
  EXPECT_FALSE(fs::exists(dest_ / "products/escaped.txt"));
}

TEST_F(PublishAttackTest, TriageMakesNothingInAJobDirSwappedForALink) {
  fs::path dir = Job("j1", 0, "payload-a");
  fs::rename(dir, base_ / "jobs/j1.moved");
  fs::create_directory_symlink(host_, dir);
  Status st = TriageJob(settings_, dir, context_, &job_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "triage: the job dir " + dir.string() + " is a symlink, not a directory: refused");
  EXPECT_EQ(Tree(host_), "secret.json\n");
  st = Publish(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(Tree(host_), "secret.json\n");
  EXPECT_FALSE(fs::exists(dest_));
}

}  // namespace
}  // namespace verdi::publish
