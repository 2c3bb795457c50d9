#include "verdi/job/job_redaction.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

Json JobWithSecrets() {
  return Json::parse(R"({
    "job_id": "j",
    "localize_urls": [{"url": "https://u:pw1@h/a.dat"}, "s3://key:pw2@h/b"],
    "params": {"localize_urls": [{"url": "ftp://u:pw3@h/c"}], "other": "https://u:keep@h/"},
    "container_image_url": "s3://k:pw4@h/img.tar.gz",
    "container_image_urls": {"x86_64": "s3://k:pw5@h/img.tar.gz"},
    "dependency_images": [{"container_image_name": "d", "container_image_url": "https://t@h/d"}]
  })");
}

TEST(JobRedactionTest, RedactsTheUrlsOfInputsAndImages) {
  Json job = JobWithSecrets();
  RedactJob(&job);
  std::string text = job.dump();
  for (const char* secret : {"pw1", "pw2", "pw3", "pw4", "pw5", "https://t@"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  EXPECT_EQ(job["localize_urls"][0]["url"], "https://u:***@h/a.dat");
  EXPECT_EQ(job["dependency_images"][0]["container_image_url"], "https://***@h/d");
  // Only those fields: the params are the job's input, as they are.
  EXPECT_EQ(job["params"]["other"], "https://u:keep@h/");
}

TEST(JobRedactionTest, TheFieldsComeBackAsTheyWere) {
  Json original = JobWithSecrets();
  Json fields = UnredactedFields(original);
  EXPECT_EQ(fields.size(), 5u);
  Json job = original;
  RedactJob(&job);
  RestoreUnredactedFields(fields, &job);
  EXPECT_EQ(job, original);
  // A place that is gone is not made again.
  Json bare = {{"job_id", "j"}, {"params", 3}};
  RestoreUnredactedFields(fields, &bare);
  EXPECT_EQ(bare["params"], 3);
  EXPECT_EQ(bare["localize_urls"], original["localize_urls"]);
  EXPECT_EQ(UnredactedFields(Json{{"job_id", "j"}}), Json::object());
}

}  // namespace
}  // namespace verdi
