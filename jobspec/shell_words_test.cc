#include "jobspec/shell_words.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using Words = std::vector<std::string>;

Words Split(std::string_view text) {
  Words words{"sentinel"};
  Status st = SplitShellWords(text, "job.params._command", &words);
  EXPECT_TRUE(st.ok()) << text << ": " << st.message();
  return words;
}

std::string Rejection(std::string_view text, const std::string& where = "job.params._command") {
  Words words{"keep"};
  Status st = SplitShellWords(text, where, &words);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << text;
  EXPECT_EQ(words, Words{"keep"}) << "changed on rejection: " << text;
  return st.message();
}

// Every expectation below is the output of Python 3's shlex.split(text),
// obtained with
//   python3 -c 'import shlex,sys,json; print(json.dumps(shlex.split(sys.argv[1])))' "<text>"

TEST(SplitShellWordsTest, PlainWordsAndBlanks) {
  EXPECT_EQ(Split("a b  c"), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split("  a\t\tb \t c  "), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split("a\nb\r\nc"), (Words{"a", "b", "c"}));
  EXPECT_EQ(Split(""), Words{});
  EXPECT_EQ(Split("   "), Words{});
  // No comments: '#' is an ordinary character.
  EXPECT_EQ(Split("#notacomment x"), (Words{"#notacomment", "x"}));
  EXPECT_EQ(Split("/bin/echo 'a b' \"c\" d"), (Words{"/bin/echo", "a b", "c", "d"}));
}

TEST(SplitShellWordsTest, SingleQuotes) {
  EXPECT_EQ(Split("'a b' c"), (Words{"a b", "c"}));
  // A backslash is literal inside single quotes.
  EXPECT_EQ(Split(R"('a\b')"), Words{R"(a\b)"});
  EXPECT_EQ(Split(R"('a"b')"), Words{R"(a"b)"});
  // HySDS quotes an embedded ' as '"'"'.
  EXPECT_EQ(Split(R"('it'"'"'s')"), Words{"it's"});
  EXPECT_EQ(Split("/home/ops/hello_world/run.sh 'inputs/input.txt' 'hello'"),
            (Words{"/home/ops/hello_world/run.sh", "inputs/input.txt", "hello"}));
}

TEST(SplitShellWordsTest, DoubleQuotes) {
  // \" and \\ are escapes; before any other character (here $) the
  // backslash is kept.
  EXPECT_EQ(Split(R"("a \"b\" c\\d \$HOME")"), Words{R"(a "b" c\d \$HOME)"});
  EXPECT_EQ(Split(R"("x\ny")"), Words{R"(x\ny)"});
  EXPECT_EQ(Split(R"("a'b")"), Words{"a'b"});
  EXPECT_EQ(Split(R"("$HOME `id`")"), Words{"$HOME `id`"});
}

TEST(SplitShellWordsTest, BackslashOutsideQuotes) {
  EXPECT_EQ(Split(R"(a\ b)"), Words{"a b"});
  EXPECT_EQ(Split(R"(a\\b)"), Words{R"(a\b)"});
  EXPECT_EQ(Split(R"(a\'b)"), Words{"a'b"});
  EXPECT_EQ(Split(R"(\$x)"), Words{"$x"});
}

TEST(SplitShellWordsTest, AdjacentPartsFormOneWord) {
  EXPECT_EQ(Split(R"(a'b'"c")"), Words{"abc"});
  EXPECT_EQ(Split(R"(--opt='x y'z "w")"), (Words{"--opt=x yz", "w"}));
}

TEST(SplitShellWordsTest, EmptyQuotedWords) {
  EXPECT_EQ(Split("''"), Words{""});
  EXPECT_EQ(Split(R"("")"), Words{""});
  EXPECT_EQ(Split("a '' b"), (Words{"a", "", "b"}));
  EXPECT_EQ(Split("a ''"), (Words{"a", ""}));
  EXPECT_EQ(Split("''a"), Words{"a"});
}

TEST(SplitShellWordsTest, Unicode) {
  EXPECT_EQ(Split("h\xc3\xa9llo 'w\xc3\xb6rld \xe2\x98\x83'"),
            (Words{"h\xc3\xa9llo", "w\xc3\xb6rld \xe2\x98\x83"}));
}

TEST(SplitShellWordsTest, Errors) {
  // shlex.split raises ValueError for each of these.
  EXPECT_EQ(Rejection("'abc"), "job.params._command: no closing quote for ' at character 0");
  EXPECT_EQ(Rejection("a 'b"), "job.params._command: no closing quote for ' at character 2");
  EXPECT_EQ(Rejection(R"("abc)"), "job.params._command: no closing quote for \" at character 0");
  EXPECT_EQ(Rejection(R"(x "abc\")"),
            "job.params._command: no closing quote for \" at character 2");
  EXPECT_EQ(Rejection(R"(abc\)"), R"(job.params._command: a '\' at the end escapes nothing)");
  EXPECT_EQ(Rejection("'a'\"b", "cmd"), "cmd: no closing quote for \" at character 3");
}

TEST(ShellQuoteTest, MatchesPythonShlexQuote) {
  // Expected: python3 -c 'import shlex; print(shlex.quote(w))'.
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("plain"), "plain");
  EXPECT_EQ(ShellQuote("a=b,c:d/e.f-g@h%i+j_k"), "a=b,c:d/e.f-g@h%i+j_k");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), R"('it'"'"'s')");
  EXPECT_EQ(ShellQuote(R"(say "hi")"), R"('say "hi"')");
  EXPECT_EQ(ShellQuote("$HOME"), "'$HOME'");
  EXPECT_EQ(ShellQuote("`id`"), "'`id`'");
  EXPECT_EQ(ShellQuote("a\nb"), "'a\nb'");
  EXPECT_EQ(ShellQuote("*"), "'*'");
  EXPECT_EQ(ShellQuote("~"), "'~'");
  EXPECT_EQ(ShellQuote("h\xc3\xa9llo"), "'h\xc3\xa9llo'");
  EXPECT_EQ(ShellQuote("'"), R"(''"'"'')");
}

TEST(ShellJoinTest, JoinsWithSingleSpaces) {
  EXPECT_EQ(ShellJoin({}), "");
  EXPECT_EQ(ShellJoin({"/bin/echo", "a b", "it's"}), R"(/bin/echo 'a b' 'it'"'"'s')");
  EXPECT_EQ(ShellJoin({"", "x"}), "'' x");
  EXPECT_EQ(ShellJoin({"x", ""}), "x ''");
}

TEST(ShellJoinTest, RoundTripsThroughSplit) {
  const Words nasty{"",      "plain", "two words", "  lead and trail  ",
                    "it's",  "'",     "''",        R"(say "hi")",
                    "\"",    "$HOME", "${HOME}",   "`id`",
                    "$(id)", "a\nb",  "tab\there", "*",
                    "~",     "a\\b",  "\\",        "h\xc3\xa9llo \xe2\x98\x83",
                    ";&|<>", "#hash"};
  EXPECT_EQ(Split(ShellJoin(nasty)), nasty);
  for (const auto& word : nasty) EXPECT_EQ(Split(ShellQuote(word)), Words{word}) << word;
}

}  // namespace
}  // namespace verdi
