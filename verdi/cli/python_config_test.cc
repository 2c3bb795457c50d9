#include "verdi/cli/python_config.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "tests/test_files.h"

namespace verdi {
namespace {

std::optional<std::string> TestEnv(const std::string& name) {
  if (name == "BROKER") return "amqp://env-host//";
  if (name == "COUNT") return " 4 ";
  if (name == "EMPTY") return "";
  return std::nullopt;
}

PythonConfig Eval(const std::string& text, Status* st = nullptr) {
  PythonConfig config;
  Status s = EvaluatePythonConfig(text, "celeryconfig.py", TestEnv, &config);
  if (st != nullptr)
    *st = s;
  else
    EXPECT_TRUE(s.ok()) << s.message();
  return config;
}

Json Value(const PythonConfig& c, const std::string& key) {
  auto it = c.settings.find(key);
  if (it == c.settings.end()) return "<absent>";
  if (!it->second.error.empty()) return "<error: " + it->second.error + ">";
  return it->second.value;
}

std::string ErrorOf(const std::string& text) {
  Status st;
  Eval(text, &st);
  return st.ok() ? "<ok>" : st.message();
}

TEST(PythonConfigTest, NumbersInEveryPythonSpelling) {
  auto c = Eval(
      "a = 5.\nb = .5\nc = 1e3\nd = 1_000\ne = 0x1F\nf = 0o17\ng = 0b101\nh = 1_0.2_5e-1_0\n"
      "i = -3\nj = +2.5\nk = 00\nl = 1E+2\nm = 5.e1\n");
  EXPECT_EQ(Value(c, "a"), 5.0);
  EXPECT_TRUE(Value(c, "a").is_number_float());
  EXPECT_EQ(Value(c, "b"), 0.5);
  EXPECT_EQ(Value(c, "c"), 1000.0);
  EXPECT_TRUE(Value(c, "c").is_number_float());
  EXPECT_EQ(Value(c, "d"), 1000);
  EXPECT_TRUE(Value(c, "d").is_number_integer());
  EXPECT_EQ(Value(c, "e"), 31);
  EXPECT_EQ(Value(c, "f"), 15);
  EXPECT_EQ(Value(c, "g"), 5);
  EXPECT_DOUBLE_EQ(Value(c, "h").get<double>(), 10.25e-10);
  EXPECT_EQ(Value(c, "i"), -3);
  EXPECT_EQ(Value(c, "j"), 2.5);
  EXPECT_EQ(Value(c, "k"), 0);
  EXPECT_EQ(Value(c, "l"), 100.0);
  EXPECT_EQ(Value(c, "m"), 50.0);
}

TEST(PythonConfigTest, MalformedNumbersAreSyntaxErrorsWithTheirPosition) {
  EXPECT_EQ(ErrorOf("x = 1\ny = 1__0\n"), "celeryconfig.py:2:5: invalid decimal literal");
  EXPECT_EQ(ErrorOf("y = 1_\n"), "celeryconfig.py:1:5: invalid decimal literal");
  EXPECT_EQ(ErrorOf("y = 012\n"),
            "celeryconfig.py:1:5: leading zeros in decimal integer literals are not permitted; "
            "use an 0o prefix for octal integers");
  EXPECT_EQ(ErrorOf("y = 0x\n"), "celeryconfig.py:1:5: invalid hexadecimal literal");
  EXPECT_EQ(ErrorOf("y = 1e\n"), "celeryconfig.py:1:5: invalid decimal literal");
}

TEST(PythonConfigTest, StringsInEveryQuotingWithImplicitConcatenation) {
  auto c = Eval(R"PY(
a = 'single'
b = "double"
c = '''triple
single'''
d = """triple "double" """
e = r'raw\n\d'
f = "esc\t\x41\u00e9\101\\\'"
g = ("amqp://"
     'user:pw@'   # a comment between the parts
     "host//")
h = u'unicode'
i = f"no fields {{here}}"
j = 'line \
continued'
k = R"X\"Y"
)PY");
  EXPECT_EQ(Value(c, "a"), "single");
  EXPECT_EQ(Value(c, "b"), "double");
  EXPECT_EQ(Value(c, "c"), "triple\nsingle");
  EXPECT_EQ(Value(c, "d"), "triple \"double\" ");
  EXPECT_EQ(Value(c, "e"), "raw\\n\\d");
  EXPECT_EQ(Value(c, "f"),
            "esc\tA\xc3\xa9"
            "A\\'");
  EXPECT_EQ(Value(c, "g"), "amqp://user:pw@host//");
  EXPECT_EQ(Value(c, "h"), "unicode");
  EXPECT_EQ(Value(c, "i"), "no fields {here}");
  EXPECT_EQ(Value(c, "j"), "line continued");
  EXPECT_EQ(Value(c, "k"), "X\\\"Y");
  EXPECT_EQ(ErrorOf("x = 'open\n"), "celeryconfig.py:1:5: unterminated string literal");
  EXPECT_EQ(ErrorOf("x = '''open\n\n"),
            "celeryconfig.py:1:5: unterminated triple-quoted string literal");
}

TEST(PythonConfigTest, ContainersOverManyLinesWithCommentsAnywhere) {
  auto c = Eval(R"PY(
WORKER_MOUNT_BLACKLIST = [
    "/dev",   # devices
    "/etc",
    # a whole-line comment
]
ADMINS = (
    ('Name', 'a@b.c'),
)
single = (1,)
empty_tuple = ()
s = {'b', 'a', 'b'}
PYMONITOREDRUNNER_CFG = {
    "rabbitmq": {
        "hostname": "mozart", "port": 5671,
    },

    "StreamObserverMessenger": {"send_interval": 1}
}
keys = {1: 'one', 2.5: 'x', True: 't', None: 'n'}
merged = {**PYMONITOREDRUNNER_CFG["rabbitmq"], 'port': 5672}
spread = [*WORKER_MOUNT_BLACKLIST, "/usr"]
)PY");
  EXPECT_EQ(Value(c, "WORKER_MOUNT_BLACKLIST"), Json({"/dev", "/etc"}));
  EXPECT_EQ(Value(c, "ADMINS"), Json::parse(R"([["Name", "a@b.c"]])"));
  EXPECT_EQ(Value(c, "single"), Json({1}));
  EXPECT_EQ(Value(c, "empty_tuple"), Json::array());
  EXPECT_EQ(Value(c, "s"), Json({"a", "b"}));
  EXPECT_EQ(Value(c, "PYMONITOREDRUNNER_CFG")["rabbitmq"]["port"], 5671);
  EXPECT_EQ(Value(c, "PYMONITOREDRUNNER_CFG")["StreamObserverMessenger"]["send_interval"], 1);
  EXPECT_EQ(Value(c, "keys"), Json::parse(R"({"1": "one", "2.5": "x", "true": "t", "null": "n"})"));
  EXPECT_EQ(Value(c, "merged"), Json::parse(R"({"hostname": "mozart", "port": 5672})"));
  EXPECT_EQ(Value(c, "spread"), Json({"/dev", "/etc", "/usr"}));
  EXPECT_EQ(c.settings.at("PYMONITOREDRUNNER_CFG").line, 13);
  EXPECT_EQ(c.settings.at("PYMONITOREDRUNNER_CFG").column, 25);
}

TEST(PythonConfigTest, ImportsEnvironmentAndSsl) {
  auto c = Eval(R"PY(
from __future__ import absolute_import
import os, ssl
import os.path
from os import getenv as ge
from kombu import Queue, Exchange
from datetime import timedelta
broker_url = os.environ.get("BROKER", "amqp://localhost//")
fallback = os.environ.get("UNSET_ONE", "amqp://default//")
none = os.getenv("UNSET_ONE")
count = int(os.environ["COUNT"])
aliased = ge("BROKER")
empty = os.environ.get("EMPTY") or "was empty"
root = os.path.join("/data", "work", "x")
broker_use_ssl = {'ca_certs': '/ca.pem', 'cert_reqs': ssl.CERT_REQUIRED}
none_reqs = ssl.CERT_NONE
expires = timedelta(days=1, hours=1)
)PY");
  EXPECT_EQ(Value(c, "broker_url"), "amqp://env-host//");
  EXPECT_EQ(Value(c, "fallback"), "amqp://default//");
  EXPECT_TRUE(Value(c, "none").is_null());
  EXPECT_EQ(Value(c, "count"), 4);
  EXPECT_EQ(Value(c, "aliased"), "amqp://env-host//");
  EXPECT_EQ(Value(c, "empty"), "was empty");
  EXPECT_EQ(Value(c, "root"), "/data/work/x");
  EXPECT_EQ(Value(c, "broker_use_ssl")["cert_reqs"], 2);
  EXPECT_EQ(Value(c, "none_reqs"), 0);
  EXPECT_EQ(Value(c, "expires"), 90000.0);
  // Modules and imported callables are not settings.
  EXPECT_EQ(c.settings.count("os"), 0u);
  EXPECT_EQ(c.settings.count("Queue"), 0u);
  EXPECT_EQ(ErrorOf("import os\nx = 1\ny = os.environ['NOPE']\n"),
            "celeryconfig.py:3:15: KeyError: os.environ['NOPE']: the environment variable NOPE is "
            "not set");
  // Not run: no KeyError.
  EXPECT_EQ(ErrorOf("import os\ny = 'x' or os.environ['NOPE']\n"), "<ok>");
  EXPECT_EQ(ErrorOf("import os\ny = os.environ['NOPE'] if False else 2\n"), "<ok>");
  EXPECT_EQ(ErrorOf("y = int('x')\n"),
            "celeryconfig.py:1:8: ValueError: invalid literal for int() with base 10: 'x'");
}

TEST(PythonConfigTest, KombuQueuesKeepTheirArgumentsByName) {
  auto c = Eval(R"PY(
from kombu import Exchange, Queue
import kombu
task_queues = (
    Queue('jobs', Exchange('jobs', type='direct'), routing_key='jobs',
          queue_arguments={'x-max-priority': 10}),
    kombu.Queue('other', durable=False),
)
)PY");
  EXPECT_EQ(Value(c, "task_queues"), Json::parse(R"([
    {"__kombu__": "Queue", "name": "jobs", "routing_key": "jobs",
     "exchange": {"__kombu__": "Exchange", "name": "jobs", "type": "direct"},
     "queue_arguments": {"x-max-priority": 10}},
    {"__kombu__": "Queue", "name": "other", "durable": false}])"));
  EXPECT_EQ(ErrorOf("from kombu import Queue\nq = Queue('a', name='b')\n"),
            "celeryconfig.py:2:10: TypeError: Queue() got multiple values for argument 'name'");
}

TEST(PythonConfigTest, ArithmeticNamesAndBuiltinsAsPython) {
  auto c = Eval(R"PY(
day = 60 * 60 * 24
half = 7 / 2
floor = -7 // 2
mod = -7 % 3
power = 2 ** 10
inverse = 2 ** -1
url = "amqp://" + "h" + "//"
again = day
BROKER_URL = "amqp://a//"
CELERY_RESULT_BACKEND = BROKER_URL
imports = ["a"]
imports += ["b"]
t = str(5.) + "|" + str(1e16) + "|" + str(1e-5) + "|" + str(True) + "|" + str(None)
f = float("1_000.5")
b = bool(0), bool("x")
a = b2 = 3
x, y = 1, 2
cond = "yes" if 1 == 1.0 else "no"
member = "a" in imports and 3 not in imports
chain = 1 < 2 < 3
short = 2 < 1 < 1 / 0
)PY");
  EXPECT_EQ(Value(c, "day"), 86400);
  EXPECT_EQ(Value(c, "half"), 3.5);
  EXPECT_EQ(Value(c, "floor"), -4);
  EXPECT_EQ(Value(c, "mod"), 2);
  EXPECT_EQ(Value(c, "power"), 1024);
  EXPECT_EQ(Value(c, "inverse"), 0.5);
  EXPECT_EQ(Value(c, "url"), "amqp://h//");
  EXPECT_EQ(Value(c, "again"), 86400);
  EXPECT_EQ(Value(c, "CELERY_RESULT_BACKEND"), "amqp://a//");
  EXPECT_EQ(Value(c, "imports"), Json({"a", "b"}));
  EXPECT_EQ(Value(c, "t"), "5.0|1e+16|1e-05|True|None");
  EXPECT_EQ(Value(c, "f"), 1000.5);
  EXPECT_EQ(Value(c, "b"), Json({false, true}));
  EXPECT_EQ(Value(c, "a"), 3);
  EXPECT_EQ(Value(c, "b2"), 3);
  EXPECT_EQ(Value(c, "x"), 1);
  EXPECT_EQ(Value(c, "y"), 2);
  EXPECT_EQ(Value(c, "cond"), "yes");
  EXPECT_EQ(Value(c, "member"), true);
  EXPECT_EQ(Value(c, "chain"), true);
  EXPECT_EQ(Value(c, "short"), false);  // decided at 2 < 1: 1 / 0 is not run, as in Python
  EXPECT_EQ(ErrorOf("x = 1 / 0\n"), "celeryconfig.py:1:7: ZeroDivisionError: division by zero");
  EXPECT_EQ(ErrorOf("x = 'a' + 1\n"),
            "celeryconfig.py:1:9: TypeError: unsupported operand type(s) for +: 'str' and 'int'");
}

TEST(PythonConfigTest, WhatIsNotEvaluatedIsAnErrorOfItsSettingOnly) {
  auto c = Eval(R"PY(
from celery.schedules import crontab
beat_schedule = {'x': {'task': 't', 'schedule': crontab(minute=0)}}
handler = lambda x: x
squares = [i * i for i in range(3)]
name = f"{undefined}"
later = undefined_name
if os_name == "posix":
    in_if = 1
else:
    in_else = 2
app.conf.update(x=1)
after = 1
)PY");
  EXPECT_EQ(Value(c, "beat_schedule"),
            "<error: calls to `celery.schedules.crontab` are not evaluated>");
  EXPECT_EQ(c.settings.at("beat_schedule").line, 3);
  EXPECT_EQ(c.settings.at("beat_schedule").column, 56);
  EXPECT_EQ(Value(c, "handler"), "<error: lambdas are not evaluated>");
  EXPECT_EQ(Value(c, "squares"), "<error: comprehensions are not evaluated>");
  EXPECT_EQ(Value(c, "name"), "<error: f-strings with {fields} are not evaluated>");
  EXPECT_EQ(Value(c, "later"), "<error: name `undefined_name` is not defined>");
  EXPECT_EQ(Value(c, "in_if"),
            "<error: assigned inside the `if` block of line 8, which is not run>");
  EXPECT_EQ(Value(c, "in_else"),
            "<error: assigned inside the `else` block of line 10, which is not run>");
  EXPECT_EQ(Value(c, "after"), 1);
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_EQ(c.skipped[0], "12:1: `app.conf.update(x=1)`: this statement is not run");
}

TEST(PythonConfigTest, IndentationAndBracketsAsPythonChecksThem) {
  EXPECT_EQ(ErrorOf("a = 1\n  b = 2\n"), "celeryconfig.py:2:3: unexpected indent");
  EXPECT_EQ(ErrorOf("if a:\nb = 2\n"),
            "celeryconfig.py:2:1: expected an indented block after 'if' statement on line 1");
  EXPECT_EQ(ErrorOf("a = [1,\n 2\n"), "celeryconfig.py:1:5: '[' was never closed");
  EXPECT_EQ(ErrorOf("a = (1]\n"),
            "celeryconfig.py:1:7: closing parenthesis ']' does not match opening parenthesis '('");
  EXPECT_EQ(ErrorOf("a = 1)\n"), "celeryconfig.py:1:6: unmatched ')'");
  EXPECT_EQ(ErrorOf("a = 1 $ 2\n"), "celeryconfig.py:1:7: invalid character '$'");
  // Decorated functions, one-line bodies, semicolons, CRLF line ends.
  auto c = Eval(
      "@decorator\ndef f():\n    return 1\nif x: y = 1\na = 1; b = 2\r\nc = \\\n  3\r\n"
      "match = 4\nmatch(c)\n");
  EXPECT_EQ(Value(c, "y"), "<error: assigned inside the `if` block of line 4, which is not run>");
  EXPECT_EQ(Value(c, "a"), 1);
  EXPECT_EQ(Value(c, "b"), 2);
  EXPECT_EQ(Value(c, "c"), 3);
  EXPECT_EQ(Value(c, "match"), 4);  // a name, not the keyword
}

// A fixture template rendered: {{ NAME }} becomes "v-NAME".
std::string Render(const std::string& text) {
  return std::regex_replace(text, std::regex(R"(\{\{ *([A-Z_]+) *\}\})"), "v-$1");
}

// What /usr/bin/python3 makes of the file, through tests/celeryconfig_json.py.
Json EvaluateWithPython(const std::filesystem::path& file) {
  std::string command = std::string("/usr/bin/python3 ") + VERDI_SOURCE_DIR +
                        "/tests/celeryconfig_json.py " + file.string();
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; pipe != nullptr && (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  int status = pipe != nullptr ? pclose(pipe) : -1;
  EXPECT_EQ(status, 0) << command;
  return Json::parse(out, nullptr, false);
}

TEST(PythonConfigTest, GivesWhatPythonGivesOnTheFixtures) {
  setenv("VERDI_FIXTURE_ENGINE", "podman", 1);
  unsetenv("VERDI_FIXTURE_UNSET");
  auto env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  std::filesystem::path dir =
      std::filesystem::path(VERDI_SOURCE_DIR) / "tests/fixtures/celeryconfig";
  std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("verdi_python_config_" + std::to_string(getpid()));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tmpl") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    std::string text = Render(test_files::Read(entry.path()));
    std::filesystem::path file = tmp / entry.path().stem();  // e.g. hysds_celeryconfig.py
    test_files::Write(file, text);
    PythonConfig config;
    Status st = EvaluatePythonConfig(text, file.string(), env, &config);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(config.skipped.empty()) << config.skipped[0];
    Json ours = Json::object();
    for (const auto& [name, setting] : config.settings) {
      EXPECT_EQ(setting.error, "") << name;
      ours[name] = setting.value;
    }
    Json python = EvaluateWithPython(file);
    ASSERT_TRUE(python.is_object());
    for (const auto& [name, value] : python.items())
      EXPECT_EQ(ours.value(name, Json("<absent>")).dump(), value.dump()) << name;
    for (const auto& [name, value] : ours.items())
      EXPECT_TRUE(python.contains(name)) << name << " is not set by Python";
  }
  std::filesystem::remove_all(tmp);
  EXPECT_EQ(files, 4);
}

}  // namespace
}  // namespace verdi
