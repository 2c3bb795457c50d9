#include "verdi/cli/python_expression.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "verdi/cli/python_builtins.h"
#include "verdi/cli/python_call.h"
#include "verdi/cli/python_modules.h"
#include "verdi/cli/python_operators.h"

namespace verdi {
namespace {

// A recursive descent over the tokens of one expression, a method per level
// of Python's grammar, from ExprList down to Atom.
class ExpressionEvaluator {
 public:
  ExpressionEvaluator(const std::vector<PyToken>& tokens, size_t begin, size_t end,
                      const std::map<std::string, PyValue>& names, const std::string& where,
                      const EnvLookup& env)
      : t_(tokens), names_(names), where_(where), env_(env), pos_(begin), end_(end) {}

  Status Run(PyValue* out) {
    PyValue v = ExprList(")");
    if (!bailed_ && pos_ < end_) v = Bail(t_[pos_], "syntax verdi does not evaluate");
    *out = v;
    return failure_;
  }

 private:
  // A Python exception: the file would not load. Deferred while in a
  // branch that may not run.
  PyValue Fail(const PyToken& at, const std::string& message) {
    return Raised(PyValue::Raise(at, message));
  }

  // `v`, the value of an operator or a call, with the exception it holds
  // (if any) raised as Fail raises one.
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
    return Raised(PySpread(items, at));
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
      } else if (PeekName("not") && pos_ + 1 < end_ && t_[pos_ + 1].is_name("in")) {
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
      // A chain a false link decided: Python runs none of the rest.
      if (chained && result.known() && !PyTruthy(result.data)) {
        NotRun([this] { return Arith(); });
        continue;
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
      return Raised(PyUnary(op.text, v, op));
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
      Expect(")");
      return first;
    }
    std::vector<PyValue> items{first};
    while (!bailed_ && PeekOp(",")) {
      ++pos_;
      if (PeekOp(")")) break;
      items.push_back(StarOrExpr());
    }
    if (!Expect(")")) return first;
    return Raised(PySpread(items, open));
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
    return Raised(PySpread(items, open));
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
    PyValue seq = Raised(PySpread(items, open));
    return seq.known() ? PyValue::Data(PySet(seq.data)) : seq;
  }

  const std::vector<PyToken>& t_;
  const std::map<std::string, PyValue>& names_;
  const std::string& where_;
  const EnvLookup& env_;
  size_t pos_, end_;
  bool bailed_ = false;
  int skip_ = 0;
  Status failure_, deferred_;
};

}  // namespace

Status EvaluatePyExpression(const std::vector<PyToken>& tokens, size_t begin, size_t end,
                            const std::map<std::string, PyValue>& names, const std::string& where,
                            const EnvLookup& env, PyValue* out) {
  return ExpressionEvaluator(tokens, begin, end, names, where, env).Run(out);
}

}  // namespace verdi
