// String operators: $concat $substr/$substrBytes $substrCP $toLower $toUpper
// $strLenBytes $strLenCP $split $trim/$ltrim/$rtrim $indexOfBytes $indexOfCP
// $strcasecmp $regexMatch/$regexFind/$regexFindAll $replaceOne $replaceAll.
// Strings are UTF-8; "CP" operators count code points.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>

#include "query/expression_internal.h"
#include "query/expression_util.h"

namespace brook::query::expr {
namespace {

using bson::Type;

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += IsContinuation(c) ? 0 : 1;
  return n;
}

// Byte offset of code point `cp` (clamped to the end).
size_t ByteOffsetOfCodePoint(std::string_view s, size_t cp) {
  size_t i = 0;
  while (i < s.size() && cp > 0) {
    ++i;
    while (i < s.size() && IsContinuation(static_cast<unsigned char>(s[i]))) ++i;
    --cp;
  }
  return i;
}

StatusWith<Value> Concat(std::string_view, std::vector<Value>& args, EvalContext&) {
  std::string out;
  for (const Value& a : args) {
    if (a.nullish()) return Value::Null();
    if (!a.IsString()) return Status(16702, "$concat only supports strings, not " + TypeNameOf(a));
    out += a.element().Str();
  }
  return Value::String(out);
}

StatusWith<Value> SubstrBytes(std::string_view, std::vector<Value>& args, EvalContext&) {
  auto s = CoerceToString(args[0]);
  if (!s.ok()) return s.status();
  const std::string& str = s.value();
  if (!args[1].IsNumber()) {
    return Status(16034, "$substrBytes:  starting index must be a numeric type (is BSON type " +
                             TypeNameOf(args[1]) + ")");
  }
  if (!args[2].IsNumber()) {
    return Status(16035, "$substrBytes:  length must be a numeric type (is BSON type " +
                             TypeNameOf(args[2]) + ")");
  }
  int64_t start = args[1].element().NumberInt64();
  int64_t len = args[2].element().NumberInt64();
  if (start < 0 || static_cast<size_t>(start) >= str.size()) return Value::String("");
  size_t begin = static_cast<size_t>(start);
  size_t end = len < 0 ? str.size() : std::min(str.size(), begin + static_cast<size_t>(len));
  if (IsContinuation(static_cast<unsigned char>(str[begin]))) {
    return Status(28656, "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.");
  }
  if (end < str.size() && IsContinuation(static_cast<unsigned char>(str[end]))) {
    return Status(28657, "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 "
                         "character.");
  }
  return Value::String(std::string_view(str).substr(begin, end - begin));
}

StatusWith<Value> SubstrCP(std::string_view, std::vector<Value>& args, EvalContext&) {
  auto s = CoerceToString(args[0]);
  if (!s.ok()) return s.status();
  int32_t start = 0, len = 0;
  if (!args[1].IsNumber()) {
    return Status(34450, "$substrCP: starting index must be a numeric type (is BSON type " +
                             TypeNameOf(args[1]) + ")");
  }
  if (!ExactInt32(args[1], &start)) {
    return Status(34451, "$substrCP: starting index cannot be represented as a 32-bit integral "
                         "value: " + args[1].ToString());
  }
  if (!args[2].IsNumber()) {
    return Status(34452, "$substrCP: length must be a numeric type (is BSON type " +
                             TypeNameOf(args[2]) + ")");
  }
  if (!ExactInt32(args[2], &len)) {
    return Status(34453, "$substrCP: length cannot be represented as a 32-bit integral value: " +
                             args[2].ToString());
  }
  if (start < 0) return Status(34455, "$substrCP: the starting index must be nonnegative integer.");
  if (len < 0) return Status(34454, "$substrCP: length must be a nonnegative integer.");
  std::string_view str = s.value();
  size_t b = ByteOffsetOfCodePoint(str, static_cast<size_t>(start));
  size_t e = b + ByteOffsetOfCodePoint(str.substr(b), static_cast<size_t>(len));
  return Value::String(str.substr(b, e - b));
}

StatusWith<Value> ChangeCase(std::string_view op, std::vector<Value>& args, EvalContext&) {
  auto s = CoerceToString(args[0]);
  if (!s.ok()) return s.status();
  std::string out = std::move(s).value();
  bool upper = op == "$toUpper";
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80) c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
  }
  return Value::String(out);
}

StatusWith<Value> StrLen(std::string_view op, std::vector<Value>& args, EvalContext&) {
  const Value& v = args[0];
  bool cp = op == "$strLenCP";
  if (!v.IsString()) {
    return Status(cp ? 34471 : 34473, std::string(op) + " requires a string argument, found: " +
                                          TypeNameOf(v));
  }
  std::string_view s = v.element().Str();
  return Value::Int32(static_cast<int32_t>(cp ? CodePointCount(s) : s.size()));
}

StatusWith<Value> Split(std::string_view, std::vector<Value>& args, EvalContext&) {
  const Value& in = args[0];
  const Value& sep = args[1];
  if (in.nullish() || sep.nullish()) return Value::Null();
  if (!in.IsString()) {
    return Status(40085, "$split requires an expression that evaluates to a string as a first "
                         "argument, found: " + TypeNameOf(in));
  }
  if (!sep.IsString()) {
    return Status(40086, "$split requires an expression that evaluates to a string as a second "
                         "argument, found: " + TypeNameOf(sep));
  }
  std::string_view s = in.element().Str();
  std::string_view d = sep.element().Str();
  if (d.empty()) return Status(40087, "$split requires a non-empty separator");
  std::vector<Value> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(d, start);
    if (pos == std::string_view::npos) {
      parts.push_back(Value::String(s.substr(start)));
      break;
    }
    parts.push_back(Value::String(s.substr(start, pos - start)));
    start = pos + d.size();
  }
  return Value::ArrayOf(parts);
}

// Default $trim characters: MongoDB's whitespace set (ASCII and Unicode spaces).
const std::vector<std::string>& DefaultTrimChars() {
  static const std::vector<std::string> chars = {
      std::string(1, '\0'), " ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE1\x9A\x80",
      "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84",
      "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89",
      "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
      "\xE3\x80\x80"};
  return chars;
}

std::vector<std::string> SplitCodePoints(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (j < s.size() && IsContinuation(static_cast<unsigned char>(s[j]))) ++j;
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

StatusWith<Value> Trim(std::string_view op, std::vector<Value>& args, const std::vector<bool>& given,
                       EvalContext&) {
  const Value& in = args[0];
  if (in.nullish()) return Value::Null();
  if (!in.IsString()) {
    return Status(50699, std::string(op) + " requires its input to be a string, got " +
                             in.ToString() + " (of type " + TypeNameOf(in) + ") instead.");
  }
  std::vector<std::string> chars;
  if (given[1]) {
    const Value& c = args[1];
    if (c.nullish()) return Value::Null();
    if (!c.IsString()) {
      return Status(50700, std::string(op) + " requires 'chars' to be a string, got " +
                               c.ToString() + " (of type " + TypeNameOf(c) + ") instead.");
    }
    chars = SplitCodePoints(c.element().Str());
  } else {
    chars = DefaultTrimChars();
  }
  std::string_view s = in.element().Str();
  auto starts_with_any = [&](std::string_view x) -> size_t {
    for (const auto& c : chars) {
      if (!c.empty() && x.substr(0, c.size()) == c) return c.size();
    }
    return 0;
  };
  auto ends_with_any = [&](std::string_view x) -> size_t {
    for (const auto& c : chars) {
      if (!c.empty() && x.size() >= c.size() && x.substr(x.size() - c.size()) == c) return c.size();
    }
    return 0;
  };
  if (op != "$rtrim") {
    while (size_t n = starts_with_any(s)) s.remove_prefix(n);
  }
  if (op != "$ltrim") {
    while (size_t n = ends_with_any(s)) s.remove_suffix(n);
  }
  return Value::String(s);
}

StatusWith<ExprPtr> ParseTrim(std::string_view op, const bson::Element& arg,
                              const ExpressionParseContext& ctx) {
  std::string o(op);
  NamedArgsSpec spec{{"input", "chars"},
                     {"input"},
                     50696,
                     o + " only supports an object as an argument, found ",
                     50694,
                     o + " found an unknown argument: ",
                     50695,
                     o + " requires an 'input' argument"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, Trim, std::move(args).value()));
}

StatusWith<Value> IndexOf(std::string_view op, std::vector<Value>& args, EvalContext&) {
  bool cp = op == "$indexOfCP";
  const Value& in = args[0];
  if (in.nullish()) return Value::Null();
  if (!in.IsString()) {
    return Status(cp ? 40093 : 40091, std::string(op) +
                                          " requires a string as the first argument, found: " +
                                          TypeNameOf(in));
  }
  const Value& token = args[1];
  if (!token.IsString()) {
    return Status(cp ? 40094 : 40092, std::string(op) +
                                          " requires a string as the second argument, found: " +
                                          TypeNameOf(token));
  }
  std::string_view s = in.element().Str();
  std::string_view t = token.element().Str();
  int64_t len = cp ? static_cast<int64_t>(CodePointCount(s)) : static_cast<int64_t>(s.size());
  int64_t bounds[2] = {0, len};
  for (size_t i = 2; i < args.size(); ++i) {
    const char* which = i == 2 ? "starting" : "ending";
    int32_t x = 0;
    if (!ExactInt32(args[i], &x)) {
      return Status(40096, std::string(op) + " requires an integral " + which +
                               " index, found a value of type: " + TypeNameOf(args[i]) +
                               ", with value: " + args[i].ToString());
    }
    if (x < 0) {
      return Status(40097, std::string(op) + " requires a nonnegative " +
                               (i == 2 ? "start" : "ending") + " index, found: " +
                               std::to_string(x));
    }
    bounds[i - 2] = x;
  }
  int64_t start = bounds[0];
  int64_t end = std::min(bounds[1], len);
  if (start > len || start > end) return Value::Int32(-1);
  if (!cp) {
    std::string_view window = s.substr(0, static_cast<size_t>(end));
    size_t pos = window.find(t, static_cast<size_t>(start));
    return Value::Int32(pos == std::string_view::npos ? -1 : static_cast<int32_t>(pos));
  }
  size_t b = ByteOffsetOfCodePoint(s, static_cast<size_t>(start));
  size_t e = ByteOffsetOfCodePoint(s, static_cast<size_t>(end));
  std::string_view window = s.substr(0, e);
  size_t pos = window.find(t, b);
  if (pos == std::string_view::npos) return Value::Int32(-1);
  return Value::Int32(static_cast<int32_t>(CodePointCount(s.substr(0, pos))));
}

StatusWith<Value> StrCaseCmp(std::string_view, std::vector<Value>& args, EvalContext&) {
  auto a = CoerceToString(args[0]);
  if (!a.ok()) return a.status();
  auto b = CoerceToString(args[1]);
  if (!b.ok()) return b.status();
  std::string x = std::move(a).value(), y = std::move(b).value();
  for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : y) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int c = x.compare(y);
  return Value::Int32(c < 0 ? -1 : c > 0 ? 1 : 0);
}

// ---- regular expressions ----

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDeleter {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

StatusWith<Value> Regex(std::string_view op, std::vector<Value>& args, const std::vector<bool>&,
                        EvalContext&) {
  const Value& in = args[0];
  const Value& re = args[1];
  const Value& opts = args[2];
  std::string o(op);
  bool all = op == "$regexFindAll";
  bool match_only = op == "$regexMatch";
  std::string pattern, flags;
  if (re.type() == Type::kRegex) {
    pattern = re.element().Re().pattern;
    flags = re.element().Re().options;
  } else if (re.IsString()) {
    pattern = re.element().Str();
  } else if (!re.nullish()) {
    return Status(51105, o + " needs 'regex' to be of type string or regex");
  }
  if (!opts.nullish()) {
    if (!opts.IsString()) return Status(51106, o + " needs 'options' to be of type string");
    if (!flags.empty()) {
      return Status(51107, o + " found regex option(s) specified in both 'regex' and 'option' "
                               "fields");
    }
    flags = opts.element().Str();
  }
  if (!in.nullish() && !in.IsString()) {
    return Status(51104, o + " needs 'input' to be of type string");
  }
  if (in.nullish() || re.nullish()) {
    if (match_only) return Value::Bool(false);
    return all ? Value::ArrayOf({}) : Value::Null();
  }
  uint32_t options = PCRE2_UTF;
  for (char f : flags) {
    switch (f) {
      case 'i': options |= PCRE2_CASELESS; break;
      case 'm': options |= PCRE2_MULTILINE; break;
      case 's': options |= PCRE2_DOTALL; break;
      case 'x': options |= PCRE2_EXTENDED; break;
      case 'u': break;
      default: return Status(51108, o + " invalid flag in regex options: " + std::string(1, f));
    }
  }
  int err = 0;
  PCRE2_SIZE err_off = 0;
  std::unique_ptr<pcre2_code, CodeDeleter> code(
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &err,
                    &err_off, nullptr));
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    return Status(51111, "Invalid Regex in " + o + ": " + reinterpret_cast<char*>(buf));
  }
  std::unique_ptr<pcre2_match_data, MatchDeleter> md(
      pcre2_match_data_create_from_pattern(code.get(), nullptr));
  std::string_view s = in.element().Str();
  uint32_t groups = 0;
  pcre2_pattern_info(code.get(), PCRE2_INFO_CAPTURECOUNT, &groups);
  std::vector<Value> found;
  size_t offset = 0;
  while (offset <= s.size()) {
    int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), offset, 0,
                         md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return Status(51156, "Error occurred while executing the regular expression in " + o);
    if (match_only) return Value::Bool(true);
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    bson::Builder b;
    b.OpenDocument("");
    b.AppendString("match", s.substr(ov[0], ov[1] - ov[0]));
    b.AppendInt32("idx", static_cast<int32_t>(CodePointCount(s.substr(0, ov[0]))));
    b.OpenArray("captures");
    std::string scratch;
    for (uint32_t g = 1; g <= groups; ++g) {
      std::string_view key = bson::ArrayKey(g - 1, &scratch);
      if (static_cast<int>(g) < rc && ov[2 * g] != PCRE2_UNSET) {
        b.AppendString(key, s.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
      } else {
        b.AppendNull(key);
      }
    }
    b.Close();
    b.Close();
    found.push_back(Value::FromSingleFieldDoc(b.Done()));
    if (!all) break;
    size_t next = ov[1];
    if (ov[1] == ov[0]) {
      next = ov[1] + 1;
      while (next < s.size() && IsContinuation(static_cast<unsigned char>(s[next]))) ++next;
    }
    offset = next;
  }
  if (match_only) return Value::Bool(false);
  if (all) return Value::ArrayOf(found);
  return found.empty() ? Value::Null() : found[0];
}

StatusWith<ExprPtr> ParseRegex(std::string_view op, const bson::Element& arg,
                               const ExpressionParseContext& ctx) {
  std::string o(op);
  NamedArgsSpec spec{{"input", "regex", "options"},
                     {"input", "regex"},
                     51103,
                     o + " expects an object of named arguments but found: ",
                     31024,
                     o + " found an unknown argument: ",
                     31022,
                     o + " requires '{}' parameter"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) {
    if (args.status().code() == 31022 && args.status().reason().find("'regex'") != std::string::npos) {
      return Status(31023, args.status().reason());
    }
    return args.status();
  }
  return ExprPtr(new NamedExpression(op, Regex, std::move(args).value()));
}

StatusWith<Value> Replace(std::string_view op, std::vector<Value>& args, const std::vector<bool>&,
                          EvalContext&) {
  std::string o(op);
  const char* names[3] = {"input", "find", "replacement"};
  int codes[3] = {51746, 51745, 51744};
  for (int i = 0; i < 3; ++i) {
    if (!args[i].nullish() && !args[i].IsString()) {
      return Status(codes[i], o + " requires that '" + names[i] + "' be a string, found: " +
                                  args[i].ToString());
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (args[i].nullish()) return Value::Null();
  }
  std::string_view s = args[0].element().Str();
  std::string_view find = args[1].element().Str();
  std::string_view repl = args[2].element().Str();
  std::string out;
  size_t start = 0;
  bool all = op == "$replaceAll";
  while (true) {
    size_t pos = s.find(find, start);
    if (pos == std::string_view::npos) break;
    out.append(s.substr(start, pos - start));
    out.append(repl);
    start = pos + find.size();
    if (!all) break;
    if (find.empty()) {
      if (start >= s.size()) break;
      size_t next = start + 1;
      while (next < s.size() && IsContinuation(static_cast<unsigned char>(s[next]))) ++next;
      out.append(s.substr(start, next - start));
      start = next;
    }
  }
  out.append(s.substr(std::min(start, s.size())));
  return Value::String(out);
}

StatusWith<ExprPtr> ParseReplace(std::string_view op, const bson::Element& arg,
                                 const ExpressionParseContext& ctx) {
  std::string o(op);
  NamedArgsSpec spec{{"input", "find", "replacement"},
                     {"input", "find", "replacement"},
                     51751,
                     o + " requires an object as an argument, found: ",
                     51750,
                     o + " found an unknown argument: ",
                     51749,
                     o + " requires '{}' to be specified"};
  auto args = ParseNamedArgs(arg, ctx, spec);
  if (!args.ok()) return args.status();
  return ExprPtr(new NamedExpression(op, Replace, std::move(args).value()));
}

// $substr is an alias; MongoDB names the canonical operator in its errors.
StatusWith<ExprPtr> ParseSubstr(std::string_view, const bson::Element& arg,
                                const ExpressionParseContext& ctx) {
  auto operands = ParseOperands(arg, ctx);
  if (!operands.ok()) return operands.status();
  BROOK_RETURN_IF_ERROR(CheckArity("$substrBytes", operands.value().size(), 3, 3));
  return ExprPtr(new NaryExpression("$substrBytes", SubstrBytes, std::move(operands).value()));
}

}  // namespace

void AddStringOperators(OperatorTable* t) {
  (*t)["$concat"] = {nullptr, Concat, 0, -1};
  (*t)["$substr"] = {ParseSubstr};
  (*t)["$substrBytes"] = {nullptr, SubstrBytes, 3, 3};
  (*t)["$substrCP"] = {nullptr, SubstrCP, 3, 3};
  (*t)["$toLower"] = {nullptr, ChangeCase, 1, 1};
  (*t)["$toUpper"] = {nullptr, ChangeCase, 1, 1};
  (*t)["$strLenBytes"] = {nullptr, StrLen, 1, 1};
  (*t)["$strLenCP"] = {nullptr, StrLen, 1, 1};
  (*t)["$split"] = {nullptr, Split, 2, 2};
  (*t)["$trim"] = {ParseTrim};
  (*t)["$ltrim"] = {ParseTrim};
  (*t)["$rtrim"] = {ParseTrim};
  (*t)["$indexOfBytes"] = {nullptr, IndexOf, 2, 4};
  (*t)["$indexOfCP"] = {nullptr, IndexOf, 2, 4};
  (*t)["$strcasecmp"] = {nullptr, StrCaseCmp, 2, 2};
  (*t)["$regexMatch"] = {ParseRegex};
  (*t)["$regexFind"] = {ParseRegex};
  (*t)["$regexFindAll"] = {ParseRegex};
  (*t)["$replaceOne"] = {ParseReplace};
  (*t)["$replaceAll"] = {ParseReplace};
}

}  // namespace brook::query::expr
