#include "verdi/worker/task_groups.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace verdi {
namespace {

std::string WriteTemp(const std::string& text) {
  char tmpl[] = "/tmp/verdi_groups_XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

TEST(TaskGroupsTest, ListsAndCommaStrings) {
  std::string path = WriteTemp(R"({"gpu": ["gpu-jobs", "gpu-long"], "cpu": "a, b"})");
  TaskGroups groups;
  ASSERT_TRUE(ReadTaskGroups(path, &groups).ok());
  std::vector<std::string> queues;
  ASSERT_TRUE(GroupQueues(groups, "gpu", path, &queues).ok());
  EXPECT_EQ(queues, (std::vector<std::string>{"gpu-jobs", "gpu-long"}));
  ASSERT_TRUE(GroupQueues(groups, "cpu", path, &queues).ok());
  EXPECT_EQ(queues, (std::vector<std::string>{"a", "b"}));
  Status st = GroupQueues(groups, "tpu", path, &queues);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "--group tpu: no such group in " + path + " (it has: cpu, gpu)");
  unlink(path.c_str());
}

TEST(TaskGroupsTest, BadFilesNameTheGroup) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"(["gpu"])", "expected an object mapping groups to queues"},
           {R"({"gpu": 3})", "gpu: expected a list of queues, got"},
           {R"({"gpu": ["a", 2]})", "gpu: expected queue names, got"},
           {R"({"gpu": "a,,b"})", "gpu: an empty queue name"},
       }) {
    std::string path = WriteTemp(text);
    TaskGroups groups;
    Status st = ReadTaskGroups(path, &groups);
    EXPECT_TRUE(st.IsInvalid()) << text;
    EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(expected), std::string::npos) << st.message();
    unlink(path.c_str());
  }
  TaskGroups groups;
  EXPECT_FALSE(ReadTaskGroups("/nonexistent/groups.json", &groups).ok());
}

}  // namespace
}  // namespace verdi
