#include "verdi/cli/python_config.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "verdi/cli/python_expression.h"
#include "verdi/cli/python_modules.h"
#include "verdi/cli/python_operators.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {
namespace {

const std::set<std::string, std::less<>> kCompound = {"if",   "elif",  "else", "for",    "while",
                                                      "def",  "class", "try",  "except", "finally",
                                                      "with", "async", "match"};

// Runs a module's statements in order, keeping the names they assign and
// the settings they make; python_expression.h evaluates their values.
class ModuleReader {
 public:
  ModuleReader(const std::vector<PyToken>& tokens, const std::string& where, const EnvLookup& env,
               PythonConfig* out)
      : t_(tokens), where_(where), env_(env), out_(out) {}

  Status Run() {
    size_t i = 0;
    bool in_block = false, expect_block = false;
    std::string block_keyword;
    int block_line = 0;
    while (t_[i].kind != PyToken::kEnd) {
      size_t j = i;
      while (t_[j].kind != PyToken::kNewline) ++j;
      const PyToken& first = t_[i];
      if (first.indent > 0) {
        if (!in_block) return Error(first, "unexpected indent");
        expect_block = false;
        BlockNames(i, j, block_keyword, block_line);
      } else {
        if (expect_block) return MissingBlock(first, block_keyword, block_line);
        in_block = false;
        if (t_[i].is_op("@")) {
          // A decorator: the def or class it decorates follows.
        } else if (IsCompoundHeader(i)) {
          in_block = true;
          block_keyword = first.text;
          block_line = first.line;
          size_t colon = TopLevel(i, j, ":");
          if (colon == j || colon + 1 == j)
            expect_block = true;  // the body is on the lines that follow
          else
            BlockNames(colon + 1, j, block_keyword, block_line);
          BindHeaderNames(i);
        } else {
          for (size_t begin = i; begin < j;) {
            size_t end = TopLevel(begin, j, ";");
            if (end > begin) VERDI_RETURN_IF_ERROR(Statement(begin, end));
            begin = end + 1;
          }
        }
      }
      i = j + 1;
    }
    if (expect_block) return MissingBlock(t_[i], block_keyword, block_line);
    return Status::OK();
  }

 private:
  Status Error(const PyToken& at, const std::string& message) const {
    return PyInvalid(where_, at.line, at.column, message);
  }

  // `at`, where the body of the block `keyword` opened on `line` should be.
  Status MissingBlock(const PyToken& at, const std::string& keyword, int line) const {
    return Error(at, fmt::format("expected an indented block after '{}' statement on line {}",
                                 keyword, line));
  }

  // Whether the statement from token i starts a compound statement.
  bool IsCompoundHeader(size_t i) const {
    if (t_[i].kind != PyToken::kName || !kCompound.count(t_[i].text)) return false;
    if (t_[i].text != "match") return true;
    // `match` is a keyword only in a header that ends with ':'; elsewhere a name.
    size_t end = i;
    while (t_[end].kind != PyToken::kNewline && !t_[end].is_op(";")) ++end;
    return end > i + 1 && t_[end - 1].is_op(":");
  }

  // The first `op` at bracket depth 0 in [begin, end), or end.
  size_t TopLevel(size_t begin, size_t end, std::string_view op) const {
    int depth = 0;
    for (size_t k = begin; k < end; ++k) {
      if (t_[k].kind != PyToken::kOp) continue;
      const std::string& o = t_[k].text;
      if (o == "(" || o == "[" || o == "{") ++depth;
      if (o == ")" || o == "]" || o == "}") --depth;
      if (depth == 0 && o == op) return k;
    }
    return end;
  }

  std::string Text(size_t begin, size_t end) const {
    std::string text;
    for (size_t k = begin; k < end; ++k) {
      if (k > begin && t_[k].column > t_[k - 1].column + static_cast<int>(t_[k - 1].text.size()))
        text.push_back(' ');
      text += t_[k].text;
    }
    return text.size() > 60 ? text.substr(0, 57) + "..." : text;
  }

  void Skipped(size_t begin, size_t end, const std::string& why) {
    out_->skipped.push_back(
        fmt::format("{}:{}: `{}`: {}", t_[begin].line, t_[begin].column, Text(begin, end), why));
  }

  // The names a statement inside a block not run would assign.
  void BlockNames(size_t begin, size_t end, const std::string& keyword, int line) {
    for (size_t s = begin; s < end;) {
      size_t e = TopLevel(s, end, ";");
      size_t k = s;
      if (IsCompoundHeader(k)) {
        size_t colon = TopLevel(k, e, ":");
        k = colon < e ? colon + 1 : e;
      }
      for (size_t eq = TopLevel(k, e, "="); eq < e; eq = TopLevel(eq + 1, e, "=")) {
        if (t_[k].kind == PyToken::kName && (eq == k + 1 || t_[k + 1].is_op(":")))
          Conditional(k, keyword, line);
        k = eq + 1;
      }
      if (k + 1 < e && t_[k].kind == PyToken::kName && t_[k + 1].kind == PyToken::kOp &&
          t_[k + 1].text.size() >= 2 && t_[k + 1].text.back() == '=' && t_[k + 1].text != "==" &&
          t_[k + 1].text != "!=" && t_[k + 1].text != "<=" && t_[k + 1].text != ">=")
        Conditional(k, keyword, line);
      s = e + 1;
    }
  }

  void Conditional(size_t name, const std::string& keyword, int line) {
    const PyToken& t = t_[name];
    Assign(t.text, PyValue::Unknown(
                       t, fmt::format("assigned inside the `{}` block of line {}, which is not run",
                                      keyword, line)));
  }

  // `def f` and `class C` bind names to objects that are not settings.
  void BindHeaderNames(size_t begin) {
    if ((t_[begin].is_name("def") || t_[begin].is_name("class")) &&
        t_[begin + 1].kind == PyToken::kName)
      names_[t_[begin + 1].text] =
          PyValue::Object("<" + t_[begin].text + " " + t_[begin + 1].text + ">");
  }

  void Assign(const std::string& name, const PyValue& v) {
    names_[name] = v;
    if (v.kind == PyValue::kObject) {
      out_->settings.erase(name);
      return;
    }
    PythonSetting& s = out_->settings[name];
    s = PythonSetting();
    if (v.known())
      s.value = v.data;
    else
      s.error = v.why;
    s.line = v.line;
    s.column = v.column;
  }

  Status Statement(size_t begin, size_t end) {
    const PyToken& first = t_[begin];
    if (t_[begin].is_name("import")) return Import(begin, end);
    if (t_[begin].is_name("from")) return FromImport(begin, end);
    if (t_[begin].is_name("pass")) return Status::OK();
    if (t_[begin].is_name("del")) {
      for (size_t k = begin + 1; k < end; ++k)
        if (t_[k].kind == PyToken::kName) {
          names_.erase(t_[k].text);
          out_->settings.erase(t_[k].text);
        }
      return Status::OK();
    }
    if (first.kind == PyToken::kName && IsPythonKeyword(first.text) &&
        !IsValueKeyword(first.text)) {
      Skipped(begin, end, "this statement is not run");
      return Status::OK();
    }
    // NAME op= value
    if (end > begin + 2 && first.kind == PyToken::kName && t_[begin + 1].kind == PyToken::kOp) {
      const std::string& op = t_[begin + 1].text;
      static const std::set<std::string, std::less<>> kAugmented = {
          "+=", "-=", "*=", "/=", "//=", "%=", "**="};
      if (kAugmented.count(op)) {
        auto it = names_.find(first.text);
        PyValue left;
        if (it == names_.end()) {
          left = PyValue::Unknown(first, fmt::format("name `{}` is not defined", first.text));
        } else {
          left = it->second;
        }
        PyValue right;
        VERDI_RETURN_IF_ERROR(Evaluate(begin + 2, end, &right));
        PyValue v = PyBinary(op.substr(0, op.size() - 1), left, right, t_[begin + 1]);
        if (v.raised) return PyInvalid(where_, v.line, v.column, v.why);
        Assign(first.text, Locate(v, t_[begin + 2]));
        return Status::OK();
      }
    }
    std::vector<size_t> equals;
    for (size_t eq = TopLevel(begin, end, "="); eq < end; eq = TopLevel(eq + 1, end, "="))
      equals.push_back(eq);
    if (equals.empty()) {
      if (first.kind == PyToken::kString && end == begin + 1) return Status::OK();  // docstring
      if (t_[begin].kind == PyToken::kName && t_[begin + 1].is_op(":"))
        return Status::OK();  // an annotation alone assigns nothing
      Skipped(begin, end, "this statement is not run");
      return Status::OK();
    }
    size_t value_begin = equals.back() + 1;
    PyValue v;
    VERDI_RETURN_IF_ERROR(Evaluate(value_begin, end, &v));
    v = Locate(v, t_[std::min(value_begin, end - 1)]);
    size_t target = begin;
    for (size_t eq : equals) {
      VERDI_RETURN_IF_ERROR(AssignTarget(target, eq, v));
      target = eq + 1;
    }
    return Status::OK();
  }

  Status Evaluate(size_t begin, size_t end, PyValue* out) const {
    return EvaluatePyExpression(t_, begin, end, names_, where_, env_, out);
  }

  // A value located at `at` unless it knows where its problem is.
  static PyValue Locate(PyValue v, const PyToken& at) {
    if (v.kind != PyValue::kUnknown || v.line == 0) {
      v.line = at.line;
      v.column = at.column;
    }
    return v;
  }

  Status AssignTarget(size_t begin, size_t end, const PyValue& v) {
    if (end == begin + 1 && t_[begin].kind == PyToken::kName && !IsPythonKeyword(t_[begin].text)) {
      Assign(t_[begin].text, v);
      return Status::OK();
    }
    if (end > begin + 1 && t_[begin].kind == PyToken::kName && t_[begin + 1].is_op(":")) {
      Assign(t_[begin].text, v);  // NAME: annotation = value
      return Status::OK();
    }
    // a, b = ... and (a, b) = ...
    size_t b = begin, e = end;
    if ((t_[b].is_op("(") || t_[b].is_op("[")) && e - b >= 2) ++b, --e;
    std::vector<size_t> names;
    for (size_t k = b; k < e; k += 2) {
      if (t_[k].kind != PyToken::kName || (k + 1 < e && !t_[k + 1].is_op(","))) {
        Skipped(begin, end, "only names are assigned to");
        return Status::OK();
      }
      names.push_back(k);
    }
    if (names.size() == 1 && e == end) {
      Assign(t_[names[0]].text, v);
      return Status::OK();
    }
    if (v.known() && (!v.data.is_array() || v.data.size() != names.size()))
      return Error(t_[begin],
                   fmt::format("cannot unpack {} into {} names", PyTypeName(v.data), names.size()));
    for (size_t n = 0; n < names.size(); ++n) {
      PyValue item = v;
      if (v.known()) item = Locate(PyValue::Data(v.data[n]), t_[names[n]]);
      Assign(t_[names[n]].text, item);
    }
    return Status::OK();
  }

  static bool IsValueKeyword(const std::string& name) {
    return name == "True" || name == "False" || name == "None" || name == "not" ||
           name == "lambda" || name == "await";
  }

  // import a.b [as c], d
  Status Import(size_t begin, size_t end) {
    for (size_t k = begin + 1; k < end;) {
      std::string dotted, first;
      while (k < end && t_[k].kind == PyToken::kName) {
        if (first.empty()) first = t_[k].text;
        dotted += (dotted.empty() ? "" : ".") + t_[k].text;
        if (k + 1 < end && t_[k + 1].is_op("."))
          k += 2;
        else
          ++k;
      }
      if (dotted.empty()) return Error(t_[k < end ? k : begin], "invalid syntax in import");
      if (k + 1 < end && t_[k].is_name("as")) {
        names_[t_[k + 1].text] = ResolvePyName(dotted);
        k += 2;
      } else {
        names_[first] = PyValue::Object(first);
      }
      if (k < end && t_[k].is_op(",")) ++k;
    }
    return Status::OK();
  }

  // from m import a [as b], (c, d) / *
  Status FromImport(size_t begin, size_t end) {
    size_t k = begin + 1;
    std::string module;
    while (k < end && !t_[k].is_name("import")) module += t_[k++].text;
    if (k == end) return Error(t_[begin], "invalid syntax: `from` without `import`");
    if (module == "__future__") return Status::OK();
    ++k;
    if (k < end && t_[k].is_op("*")) {
      Skipped(begin, end, "the names it imports are not known to verdi");
      return Status::OK();
    }
    for (; k < end; ++k) {
      if (t_[k].kind != PyToken::kName) continue;  // ( , )
      std::string name = t_[k].text;
      std::string bound = name;
      if (k + 2 < end && t_[k + 1].is_name("as")) {
        bound = t_[k + 2].text;
        k += 2;
      }
      names_[bound] = ResolvePyName(module + "." + name);
    }
    return Status::OK();
  }

  const std::vector<PyToken>& t_;
  const std::string& where_;
  const EnvLookup& env_;
  PythonConfig* out_;
  std::map<std::string, PyValue> names_;
};

}  // namespace

Status EvaluatePythonConfig(const std::string& text, const std::string& where, const EnvLookup& env,
                            PythonConfig* out) {
  *out = PythonConfig();
  std::vector<PyToken> tokens;
  VERDI_RETURN_IF_ERROR(TokenizePython(text, where, &tokens));
  return ModuleReader(tokens, where, env, out).Run();
}

}  // namespace verdi
