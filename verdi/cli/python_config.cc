#include "verdi/cli/python_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "verdi/cli/python_builtins.h"
#include "verdi/cli/python_call.h"
#include "verdi/cli/python_modules.h"
#include "verdi/cli/python_operators.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {
namespace {

const std::set<std::string, std::less<>> kCompound = {"if",   "elif",  "else", "for",    "while",
                                                      "def",  "class", "try",  "except", "finally",
                                                      "with", "async", "match"};

class Evaluator {
 public:
  Evaluator(const std::vector<PyToken>& tokens, const std::string& where, const EnvLookup& env,
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
        if (expect_block)
          return Error(first,
                       fmt::format("expected an indented block after '{}' statement on line {}",
                                   block_keyword, block_line));
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
    if (expect_block)
      return Error(t_[i], fmt::format("expected an indented block after '{}' statement on line {}",
                                      block_keyword, block_line));
    return Status::OK();
  }

 private:
  Status Error(const PyToken& at, const std::string& message) const {
    return PyInvalid(where_, at.line, at.column, message);
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
        PyValue right = Evaluate(begin + 2, end);
        VERDI_RETURN_IF_ERROR(failure_);
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
    PyValue v = Evaluate(value_begin, end);
    VERDI_RETURN_IF_ERROR(failure_);
    v = Locate(v, t_[std::min(value_begin, end - 1)]);
    size_t target = begin;
    for (size_t eq : equals) {
      VERDI_RETURN_IF_ERROR(AssignTarget(target, eq, v));
      target = eq + 1;
    }
    return Status::OK();
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

  // ----- expressions -----

  // A Python exception: the file would not load. Deferred while in a
  // branch that may not run.
  PyValue Fail(const PyToken& at, const std::string& message) {
    return Raised(PyValue::Raise(at, message));
  }

  // `v`, the exception it holds (if any) raised here (see Fail).
  PyValue Raised(PyValue v) {
    if (v.raised) {
      Commit(PyInvalid(where_, v.line, v.column, v.why));
      v.raised = false;
    }
    return v;
  }

  void Commit(const Status& st) {
    if (st.ok()) return;
    if (skip_ > 0) {
      if (deferred_.ok()) deferred_ = st;
    } else if (failure_.ok()) {
      failure_ = st;
      bailed_ = true;
    }
  }

  // Syntax this reader does not evaluate: the statement's value is unknown.
  PyValue Bail(const PyToken& at, const std::string& why) {
    bailed_ = true;
    return PyValue::Unknown(at, why);
  }

  PyValue Evaluate(size_t begin, size_t end) {
    pos_ = begin;
    end_ = end;
    bailed_ = false;
    PyValue v = ExprList(")");
    if (!bailed_ && pos_ < end_) return Bail(t_[pos_], "syntax verdi does not evaluate");
    return v;
  }

  const PyToken& Peek() const { return t_[std::min(pos_, end_)]; }
  bool PeekOp(std::string_view op) const { return pos_ < end_ && t_[pos_].is_op(op); }
  bool PeekName(std::string_view name) const { return pos_ < end_ && t_[pos_].is_name(name); }
  bool Expect(std::string_view op) {
    if (PeekOp(op)) {
      ++pos_;
      return true;
    }
    Bail(Peek(), fmt::format("expected '{}'", op));
    return false;
  }
  // Bails at a comprehension (`for` in a display or call).
  bool Comprehension() {
    if (!PeekName("for") && !PeekName("async")) return false;
    Bail(Peek(), "comprehensions are not evaluated");
    return true;
  }

  // Items separated by commas up to `close` (not consumed): a tuple when
  // there is a comma, else the single value.
  PyValue ExprList(std::string_view close) {
    const PyToken& at = Peek();
    PyValue first = StarOrExpr();
    if (bailed_ || !PeekOp(",")) {
      if (first.kind == PyValue::kObject && first.object == "*")
        return Bail(at, "a starred expression alone");
      return first;
    }
    std::vector<PyValue> items{first};
    while (!bailed_ && PeekOp(",")) {
      ++pos_;
      if (pos_ >= end_ || PeekOp(close)) break;
      items.push_back(StarOrExpr());
    }
    return Sequence(items, at);
  }

  // An element of a list, tuple or set: `*x` gives an Object "*" holding x.
  PyValue StarOrExpr() {
    if (PeekOp("*")) {
      ++pos_;
      PyValue v = OrTest();
      if (!v.known()) return v;
      PyValue star = PyValue::Object("*");
      star.data = v.data;
      return star;
    }
    return Expr();
  }

  // The array of `items`, `*x` items spread.
  PyValue Sequence(const std::vector<PyValue>& items, const PyToken& at) {
    Json out = Json::array();
    for (const PyValue& item : items) {
      if (item.kind == PyValue::kUnknown) return item;
      if (item.kind == PyValue::kObject && item.object == "*") {
        if (item.data.is_array()) {
          for (const Json& x : item.data) out.push_back(x);
        } else if (item.data.is_object()) {
          for (const auto& [k, v] : item.data.items()) out.push_back(k);
        } else {
          return item.data.is_string()
                     ? PyValue::Unknown(at, "unpacking a string")
                     : Fail(at, fmt::format("TypeError: {} object is not iterable",
                                            PyTypeName(item.data)));
        }
      } else if (item.kind == PyValue::kObject) {
        return PyValue::Unknown(at, fmt::format("`{}` is not a value", item.object));
      } else {
        out.push_back(item.data);
      }
    }
    return PyValue::Data(out);
  }

  // test: or_test ['if' or_test 'else' test] | lambda
  PyValue Expr() {
    const PyToken& at = Peek();
    if (PeekName("lambda")) return Bail(at, "lambdas are not evaluated");
    Status a_failure;
    PyValue a = Deferred([this] { return OrTest(); }, &a_failure);
    if (!PeekName("if") || bailed_) {
      Commit(a_failure);
      return a;
    }
    ++pos_;
    PyValue cond = OrTest();
    if (!PeekName("else")) return Bail(Peek(), "expected 'else'");
    ++pos_;
    bool take_a = cond.known() && PyTruthy(cond.data);
    if (take_a) Commit(a_failure);
    PyValue b = take_a || !cond.known() ? NotRun([this] { return Expr(); }) : Expr();
    if (!cond.known()) return cond;
    return take_a ? a : b;
  }

  // Evaluates `f` keeping the exceptions it raises in `*failure`, for the
  // caller to commit if the branch is the one Python runs.
  template <typename F>
  PyValue Deferred(F f, Status* failure) {
    Status saved = std::exchange(deferred_, Status::OK());
    ++skip_;
    PyValue v = f();
    --skip_;
    *failure = std::exchange(deferred_, saved);
    return v;
  }

  // Evaluates `f`, a branch Python does not run: its exceptions are dropped.
  template <typename F>
  PyValue NotRun(F f) {
    Status dropped;
    return Deferred(f, &dropped);
  }

  PyValue OrTest() { return BoolOp("or"); }
  PyValue AndTest() { return BoolOp("and"); }

  // a or b / a and b: the deciding operand; the rest is not run.
  PyValue BoolOp(std::string_view op) {
    PyValue left = op == "or" ? AndTest() : NotTest();
    while (!bailed_ && PeekName(op)) {
      ++pos_;
      bool decided = left.known() && (op == "or" ? PyTruthy(left.data) : !PyTruthy(left.data));
      auto operand = [this, op] { return op == "or" ? AndTest() : NotTest(); };
      PyValue right = decided || !left.known() ? NotRun(operand) : operand();
      if (!decided) left = left.known() ? right : left;
    }
    return left;
  }

  PyValue NotTest() {
    if (PeekName("not")) {
      const PyToken& at = t_[pos_++];
      PyValue v = NotTest();
      if (!v.known())
        return v.kind == PyValue::kUnknown ? v : PyValue::Unknown(at, "`not` of a module");
      return PyValue::Data(!PyTruthy(v.data));
    }
    return Comparison();
  }

  PyValue Comparison() {
    PyValue left = Arith();
    PyValue result = left;
    bool chained = false;  // a < b < c: (a < b) and (b < c)
    while (!bailed_ && pos_ < end_) {
      const PyToken& at = Peek();
      std::string op;
      if (PeekOp("==") || PeekOp("!=") || PeekOp("<") || PeekOp(">") || PeekOp("<=") ||
          PeekOp(">=")) {
        op = at.text;
        ++pos_;
      } else if (PeekName("in")) {
        op = "in";
        ++pos_;
      } else if (PeekName("not") && t_[pos_ + 1].is_name("in") && pos_ + 1 < end_) {
        op = "not in";
        pos_ += 2;
      } else if (PeekName("is")) {
        ++pos_;
        op = "is";
        if (PeekName("not")) {
          ++pos_;
          op = "is not";
        }
      } else {
        break;
      }
      PyValue right = Arith();
      PyValue r = Raised(PyCompare(op, left, right, at));
      if (!chained || (result.known() && PyTruthy(result.data))) result = r;
      chained = true;
      left = right;
    }
    return result;
  }

  PyValue Arith() {
    PyValue left = Term();
    while (!bailed_ && (PeekOp("+") || PeekOp("-"))) {
      const PyToken& op = t_[pos_++];
      PyValue right = Term();
      left = Raised(PyBinary(op.text, left, right, op));
    }
    if (!bailed_ &&
        (PeekOp("|") || PeekOp("&") || PeekOp("^") || PeekOp("<<") || PeekOp(">>") || PeekOp("@")))
      return Bail(Peek(), fmt::format("the operator {} is not evaluated", Peek().text));
    return left;
  }

  PyValue Term() {
    PyValue left = Factor();
    while (!bailed_ && (PeekOp("*") || PeekOp("/") || PeekOp("//") || PeekOp("%"))) {
      const PyToken& op = t_[pos_++];
      PyValue right = Factor();
      left = Raised(PyBinary(op.text, left, right, op));
    }
    return left;
  }

  PyValue Factor() {
    if (PeekOp("-") || PeekOp("+")) {
      const PyToken& op = t_[pos_++];
      PyValue v = Factor();
      if (!v.known())
        return v.kind == PyValue::kUnknown ? v : PyValue::Unknown(op, "arithmetic on a module");
      if (!PyIsNumber(v.data))
        return Fail(op, fmt::format("TypeError: bad operand type for unary {}: '{}'", op.text,
                                    PyTypeName(v.data)));
      if (op.text == "+")
        return PyValue::Data(PyIsInteger(v.data) ? Json(PyAsInt(v.data)) : v.data);
      if (PyIsInteger(v.data)) {
        int64_t i = PyAsInt(v.data);
        if (i == std::numeric_limits<int64_t>::min())
          return PyValue::Unknown(op, "integers beyond 64 bits");
        return PyValue::Data(-i);
      }
      return PyValue::Data(-v.data.get<double>());
    }
    if (PeekOp("~")) return Bail(Peek(), "the operator ~ is not evaluated");
    if (PeekName("await")) return Bail(Peek(), "await is not evaluated");
    return Power();
  }

  PyValue Power() {
    PyValue base = Primary();
    if (!bailed_ && PeekOp("**")) {
      const PyToken& op = t_[pos_++];
      PyValue exponent = Factor();
      return Raised(PyBinary("**", base, exponent, op));
    }
    return base;
  }

  PyValue Primary() {
    PyValue v = Atom();
    while (!bailed_ && pos_ < end_) {
      const PyToken& at = Peek();
      if (PeekOp(".")) {
        ++pos_;
        if (pos_ >= end_ || t_[pos_].kind != PyToken::kName)
          return Bail(at, "expected a name after '.'");
        const PyToken& attr = t_[pos_++];
        if (v.kind == PyValue::kObject)
          v = ResolvePyName(v.object + "." + attr.text);
        else if (v.kind == PyValue::kData)
          v = PyValue::Unknown(
              attr, fmt::format("the methods of values (.{}) are not evaluated", attr.text));
      } else if (PeekOp("(")) {
        ++pos_;
        PyArgs args;
        bool ok = Arguments(&args);
        if (!ok) return v;
        v = Raised(CallPython(v, args, at, env_));
      } else if (PeekOp("[")) {
        ++pos_;
        if (SliceAhead()) return Bail(at, "slices are not evaluated");
        PyValue key = ExprList("]");
        if (!Expect("]")) return v;
        v = Raised(PySubscript(v, key, at, env_));
      } else {
        break;
      }
    }
    return v;
  }

  // Inside a subscript's brackets: a ':' before its ']'.
  bool SliceAhead() const {
    int depth = 0;
    for (size_t k = pos_; k < end_; ++k) {
      if (t_[k].kind != PyToken::kOp) continue;
      const std::string& o = t_[k].text;
      if (o == "(" || o == "[" || o == "{") ++depth;
      if (o == ")" || o == "]" || o == "}") {
        if (depth == 0) return false;
        --depth;
      }
      if (o == ":" && depth == 0) return true;
    }
    return false;
  }

  bool Arguments(PyArgs* args) {
    while (!bailed_ && !PeekOp(")")) {
      if (pos_ >= end_) {
        Bail(Peek(), "expected ')'");
        return false;
      }
      if (PeekOp("**") || PeekOp("*")) {
        bool dict = PeekOp("**");
        const PyToken& at = t_[pos_++];
        PyValue v = Expr();
        if (v.known() && dict && v.data.is_object()) {
          for (const auto& [k, e] : v.data.items())
            args->keywords.emplace_back(k, PyValue::Data(e));
        } else if (v.known() && !dict && v.data.is_array()) {
          for (const Json& e : v.data) args->positional.push_back(PyValue::Data(e));
        } else {
          args->positional.push_back(v.known() ? PyValue::Unknown(at, "unpacking this argument")
                                               : v);
        }
      } else if (pos_ + 1 < end_ && t_[pos_].kind == PyToken::kName && t_[pos_ + 1].is_op("=")) {
        std::string name = t_[pos_].text;
        pos_ += 2;
        args->keywords.emplace_back(name, Expr());
      } else {
        args->positional.push_back(Expr());
        if (Comprehension()) return false;
      }
      if (!PeekOp(",")) break;
      ++pos_;
    }
    return Expect(")");
  }

  PyValue Atom() {
    if (pos_ >= end_) return Bail(Peek(), "an expression is missing");
    const PyToken& t = t_[pos_];
    switch (t.kind) {
      case PyToken::kNumber:
        ++pos_;
        return t.unsupported.empty() ? PyValue::Data(t.value) : PyValue::Unknown(t, t.unsupported);
      case PyToken::kString:
        return Strings();
      case PyToken::kName:
        ++pos_;
        if (t.text == "True") return PyValue::Data(true);
        if (t.text == "False") return PyValue::Data(false);
        if (t.text == "None") return PyValue::Data(nullptr);
        if (IsPythonKeyword(t.text))
          return Bail(t, fmt::format("`{}` is not evaluated here", t.text));
        if (auto it = names_.find(t.text); it != names_.end()) {
          PyValue v = it->second;
          if (v.kind == PyValue::kUnknown)
            v = PyValue::Unknown(t, fmt::format("`{}` has no known value: {}", t.text, v.why));
          return v;
        }
        if (IsPyBuiltin(t.text)) return PyValue::Object("builtins." + t.text);
        return PyValue::Unknown(t, fmt::format("name `{}` is not defined", t.text));
      case PyToken::kOp:
        if (t.text == "(") return Parenthesized();
        if (t.text == "[") return ListDisplay();
        if (t.text == "{") return DictOrSet();
        if (t.text == "...") return Bail(t, "Ellipsis is not evaluated");
        return Bail(t, fmt::format("syntax verdi does not evaluate ('{}')", t.text));
      default:
        return Bail(t, "an expression is missing");
    }
  }

  // Adjacent string literals, concatenated.
  PyValue Strings() {
    const PyToken& first = t_[pos_];
    std::string text;
    bool bytes = false, str = false;
    std::optional<PyValue> unknown;
    while (pos_ < end_ && t_[pos_].kind == PyToken::kString) {
      const PyToken& t = t_[pos_++];
      (t.string_kind == 'b' ? bytes : str) = true;
      if (!unknown && t.string_kind == 'b')
        unknown = PyValue::Unknown(t, "bytes literals are not evaluated");
      if (!unknown && t.string_kind == 'f')
        unknown = PyValue::Unknown(t, "f-strings with {fields} are not evaluated");
      if (!unknown && !t.unsupported.empty())
        unknown = PyValue::Unknown(t, t.unsupported + " are not evaluated");
      text += t.value.get<std::string>();
    }
    if (bytes && str) return Fail(first, "SyntaxError: cannot mix bytes and nonbytes literals");
    return unknown ? *unknown : PyValue::Data(text);
  }

  PyValue Parenthesized() {
    const PyToken& open = t_[pos_++];
    if (PeekOp(")")) {
      ++pos_;
      return PyValue::Data(Json::array());
    }
    if (PeekName("yield")) return Bail(Peek(), "yield is not evaluated");
    PyValue first = StarOrExpr();
    if (Comprehension()) return PyValue::Unknown(open, "generator expressions are not evaluated");
    if (!PeekOp(",")) {
      if (!Expect(")")) return first;
      return first;
    }
    std::vector<PyValue> items{first};
    while (!bailed_ && PeekOp(",")) {
      ++pos_;
      if (PeekOp(")")) break;
      items.push_back(StarOrExpr());
    }
    if (!Expect(")")) return first;
    return Sequence(items, open);
  }

  PyValue ListDisplay() {
    const PyToken& open = t_[pos_++];
    std::vector<PyValue> items;
    while (!bailed_ && !PeekOp("]")) {
      items.push_back(StarOrExpr());
      if (Comprehension()) return PyValue::Unknown(open, "comprehensions are not evaluated");
      if (!PeekOp(",")) break;
      ++pos_;
    }
    if (!Expect("]")) return PyValue::Unknown(open, "a list");
    return Sequence(items, open);
  }

  PyValue DictOrSet() {
    const PyToken& open = t_[pos_++];
    if (PeekOp("}")) {
      ++pos_;
      return PyValue::Data(Json::object());
    }
    bool is_dict = PeekOp("**");
    std::vector<PyValue> items;
    Json dict = Json::object();
    std::optional<PyValue> unknown;
    auto note = [&](const PyValue& v) {
      if (!unknown && !v.known())
        unknown = v.kind == PyValue::kUnknown ? v : PyValue::Unknown(open, "a module in a dict");
    };
    for (bool first = true; !bailed_ && !PeekOp("}"); first = false) {
      if (PeekOp("**")) {
        if (first) is_dict = true;
        if (!is_dict) return Bail(Peek(), "** in a set");
        const PyToken& at = t_[pos_++];
        PyValue v = OrTest();
        note(v);
        if (v.known() && !v.data.is_object())
          return Fail(at,
                      fmt::format("TypeError: '{}' object is not a mapping", PyTypeName(v.data)));
        if (v.known())
          for (const auto& [k, e] : v.data.items()) dict[k] = e;
      } else {
        PyValue key = is_dict ? Expr() : StarOrExpr();
        if (first && PeekOp(":")) is_dict = true;
        if (is_dict) {
          if (!Expect(":")) return PyValue::Unknown(open, "a dict");
          PyValue value = Expr();
          note(key);
          note(value);
          if (key.known() && value.known()) {
            auto k = PyDictKey(key.data);
            if (!k) {
              if (!unknown)
                unknown =
                    PyValue::Unknown(open, "dict keys that are not str, int, float, bool or None");
            } else {
              dict[*k] = value.data;
            }
          }
        } else {
          items.push_back(key);
        }
      }
      if (Comprehension()) return PyValue::Unknown(open, "comprehensions are not evaluated");
      if (!PeekOp(",")) break;
      ++pos_;
    }
    if (!Expect("}")) return PyValue::Unknown(open, "a dict");
    if (unknown) return *unknown;
    if (is_dict) return PyValue::Data(dict);
    PyValue seq = Sequence(items, open);
    return seq.known() ? PyValue::Data(PySet(seq.data)) : seq;
  }

  const std::vector<PyToken>& t_;
  const std::string& where_;
  const EnvLookup& env_;
  PythonConfig* out_;
  std::map<std::string, PyValue> names_;
  size_t pos_ = 0, end_ = 0;
  bool bailed_ = false;
  int skip_ = 0;
  Status failure_, deferred_;
};

}  // namespace

Status EvaluatePythonConfig(const std::string& text, const std::string& where, const EnvLookup& env,
                            PythonConfig* out) {
  *out = PythonConfig();
  std::vector<PyToken> tokens;
  VERDI_RETURN_IF_ERROR(TokenizePython(text, where, &tokens));
  return Evaluator(tokens, where, env, out).Run();
}

}  // namespace verdi
