// Collation spec parsing and the ICU-free comparator; collation.h lists what is exact
// and what is approximated.
#include "query/collation.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "bson/builder.h"

namespace brook::query {
namespace {

// ---------------------------------------------------------------------------------------
// Spec parsing.

using bson::View;

constexpr std::string_view kSimple = "simple";

// The languages MongoDB lists as supported collation locales (manual: "Collation
// Locales and Default Parameters"), plus the few multi-part names it lists.
constexpr std::string_view kLanguages[] = {
    "af",  "am",  "ar",  "as",  "az",  "be",  "bg",  "bn",  "bo",  "bs",  "ca",  "chr", "cs",
    "cy",  "da",  "de",  "dsb", "dz",  "ee",  "el",  "en",  "eo",  "es",  "et",  "fa",  "fi",
    "fil", "fo",  "fr",  "ga",  "gl",  "gu",  "ha",  "haw", "he",  "hi",  "hr",  "hsb", "hu",
    "hy",  "id",  "ig",  "is",  "it",  "ja",  "ka",  "kk",  "kl",  "km",  "kn",  "ko",  "kok",
    "ky",  "lb",  "li",  "lk",  "ln",  "lo",  "lt",  "lv",  "mk",  "ml",  "mn",  "mr",  "ms",
    "mt",  "my",  "nb",  "ne",  "nl",  "nn",  "om",  "or",  "pa",  "pl",  "ps",  "pt",  "ro",
    "ru",  "se",  "si",  "sk",  "sl",  "smn", "sq",  "sr",  "sv",  "sw",  "ta",  "te",  "th",
    "to",  "tr",  "ug",  "uk",  "ur",  "vi",  "wae", "yi",  "yo",  "zh",  "zu",  "bs_Cyrl",
    "sr_Latn", "zh_Hant", "fa_AF", "fi_FI", "en_US_POSIX", "de@collation=phonebook",
    "zh@collation=pinyin", "zh@collation=stroke", "zh@collation=zhuyin", "es@collation=search",
    "si@collation=dictionary"};

bool IsUpperAlpha(char c) { return c >= 'A' && c <= 'Z'; }

bool KnownLocale(std::string_view id) {
  for (auto l : kLanguages) {
    if (l == id) return true;
  }
  // language + "_" + two-letter uppercase region ("en_GB"); "ZZ" is ICU's unknown region.
  auto us = id.find('_');
  if (us == std::string_view::npos || id.size() != us + 3) return false;
  std::string_view lang = id.substr(0, us), region = id.substr(us + 1);
  if (!IsUpperAlpha(region[0]) || !IsUpperAlpha(region[1]) || region == "ZZ") return false;
  return std::find(std::begin(kLanguages), std::end(kLanguages), lang) != std::end(kLanguages);
}

// A value as MongoDB's BSONObj::toString prints it inside error messages.
void AppendShell(const bson::Element& e, std::string* out) {
  switch (e.type()) {
    case bson::Type::kString:
      *out += '"';
      *out += e.Str();
      *out += '"';
      return;
    case bson::Type::kBool:
      *out += e.Bool() ? "true" : "false";
      return;
    case bson::Type::kInt32:
      *out += std::to_string(e.Int32());
      return;
    case bson::Type::kInt64:
      *out += std::to_string(e.Int64());
      return;
    case bson::Type::kObject: {
      View obj = e.Obj();
      if (obj.empty()) {
        *out += "{}";
        return;
      }
      *out += "{ ";
      bool first = true;
      for (const auto& f : obj) {
        if (!first) *out += ", ";
        first = false;
        *out += f.key();
        *out += ": ";
        AppendShell(f, out);
      }
      *out += " }";
      return;
    }
    default:
      *out += e.ToString();
  }
}

std::string Shell(View doc) {
  std::string out;
  if (doc.empty()) return "{}";
  out += "{ ";
  bool first = true;
  for (const auto& f : doc) {
    if (!first) out += ", ";
    first = false;
    out += f.key();
    out += ": ";
    AppendShell(f, &out);
  }
  out += " }";
  return out;
}

Status WrongFieldType(std::string_view field, const bson::Element& e, std::string_view expected) {
  return Status(ErrorCodes::kTypeMismatch, "\"" + std::string(field) +
                                               "\" had the wrong type. Expected " +
                                               std::string(expected) + ", found " +
                                               std::string(bson::TypeName(e.type())));
}

// bsonExtractBooleanField: only a real bool is accepted.
Status ExtractBool(View spec, std::string_view field, bool* out, int* parsed) {
  auto e = spec[field];
  if (e.missing()) return Status::OK();
  if (e.type() != bson::Type::kBool) return WrongFieldType(field, e, "bool");
  *out = e.Bool();
  ++*parsed;
  return Status::OK();
}

Status ExtractString(View spec, std::string_view field, std::optional<std::string>* out,
                     int* parsed) {
  auto e = spec[field];
  if (e.missing()) return Status::OK();
  if (e.type() != bson::Type::kString) return WrongFieldType(field, e, "string");
  *out = std::string(e.Str());
  ++*parsed;
  return Status::OK();
}

// Locale defaults that differ from root (MongoDB's locale table).
void ApplyLocaleDefaults(CollationSpec* s) {
  std::string_view l = s->locale;
  if (l == "fr_CA") s->backwards = true;
  if (l == "da" || l == "mt" || l.substr(0, 3) == "da_" || l.substr(0, 3) == "mt_") {
    s->case_first = CollationSpec::CaseFirst::kUpper;
  }
  if (l == "th" || l.substr(0, 3) == "th_") s->alternate = CollationSpec::Alternate::kShifted;
}

// ---------------------------------------------------------------------------------------
// Comparison: each code point becomes zero or more collation elements (CEs).

enum Accent : uint8_t {
  kNoAccent = 0,
  kAcute, kGrave, kBreve, kCircumflex, kCaron, kRing, kDiaeresis, kDoubleAcute, kTilde,
  kDotAbove, kStroke, kCedilla, kOgonek, kMacron, kMiddleDot, kOtherMark,
};

constexpr uint16_t kCommonSecondary = 5;

struct CE {
  uint32_t primary = 0;      // 0: ignorable at level 1
  uint16_t secondary = 0;    // 0: ignorable at level 2
  uint8_t upper = 0;         // case bit (caseLevel / tertiary)
  uint8_t variant = 0;       // tertiary variant (ß vs ss, ſ vs s)
  bool variable = false;     // space/punctuation, subject to alternate=shifted
};

// Primary weight ranges.
constexpr uint32_t kSpaceBase = 0x100;
constexpr uint32_t kPunctBase = 0x200;
constexpr uint32_t kSymbolBase = 0x400;
constexpr uint32_t kDigitBase = 0x1000;
constexpr uint32_t kNumberLenBase = 0x2000;  // numericOrdering: digit count of a run
constexpr uint32_t kLatinBase = 0x10000;
constexpr uint32_t kGreekBase = 0x20000;
constexpr uint32_t kCyrillicBase = 0x30000;
constexpr uint32_t kOtherBase = 0x200000;

// ICU's order of ASCII non-alphanumerics (DUCET): whitespace, punctuation, symbols.
constexpr std::string_view kAsciiSpaces = "\t\n\v\f\r ";
constexpr std::string_view kAsciiPunct = "_-,;:!?.'\"()[]{}@*/\\&#%";
constexpr std::string_view kAsciiSymbols = "`^+<=>|~$";

uint32_t LatinPrimary(char base_lower, int sub = 0) {
  return kLatinBase + static_cast<uint32_t>(base_lower - 'a') * 4 + static_cast<uint32_t>(sub);
}

// U+00C0..U+00DF (and +0x20 for lowercase): base letter + accent code; 'x' = special.
constexpr std::array<const char*, 32> kLatin1 = {
    "ag", "aa", "ac", "at", "ad", "ar", "x?", "ce", "eg", "ea", "ec", "ed", "ig", "ia", "ic", "id",
    "x?", "nt", "og", "oa", "oc", "ot", "od", "x?", "os", "ug", "ua", "uc", "ud", "ya", "x?", "x?",
};

// U+0100..U+017F, same coding.
constexpr std::array<const char*, 128> kLatinExtA = {
    "am", "am", "ab", "ab", "ak", "ak", "ca", "ca", "cc", "cc", "co", "co", "cv", "cv", "dv", "dv",
    "ds", "ds", "em", "em", "eb", "eb", "eo", "eo", "ek", "ek", "ev", "ev", "gc", "gc", "gb", "gb",
    "go", "go", "ge", "ge", "hc", "hc", "hs", "hs", "it", "it", "im", "im", "ib", "ib", "ik", "ik",
    "io", "x?", "x?", "x?", "jc", "jc", "ke", "ke", "x?", "la", "la", "le", "le", "lv", "lv", "ll",
    "ll", "ls", "ls", "na", "na", "ne", "ne", "nv", "nv", "x?", "x?", "x?", "om", "om", "ob", "ob",
    "oh", "oh", "x?", "x?", "ra", "ra", "re", "re", "rv", "rv", "sa", "sa", "sc", "sc", "se", "se",
    "sv", "sv", "te", "te", "tv", "tv", "ts", "ts", "ut", "ut", "um", "um", "ub", "ub", "ur", "ur",
    "uh", "uh", "uk", "uk", "wc", "wc", "yc", "yc", "yd", "za", "za", "zo", "zo", "zv", "zv", "x?",
};

Accent AccentOf(char code) {
  switch (code) {
    case 'a': return kAcute;
    case 'g': return kGrave;
    case 'b': return kBreve;
    case 'c': return kCircumflex;
    case 'v': return kCaron;
    case 'r': return kRing;
    case 'd': return kDiaeresis;
    case 'h': return kDoubleAcute;
    case 't': return kTilde;
    case 'o': return kDotAbove;
    case 's': return kStroke;
    case 'e': return kCedilla;
    case 'k': return kOgonek;
    case 'm': return kMacron;
    case 'l': return kMiddleDot;
    default: return kNoAccent;
  }
}

bool UpperInExtA(uint32_t cp) {
  if (cp <= 0x0137) return cp % 2 == 0;
  if (cp >= 0x0139 && cp <= 0x0148) return cp % 2 == 1;
  if (cp >= 0x014A && cp <= 0x0177) return cp % 2 == 0;
  if (cp == 0x0178) return true;
  if (cp >= 0x0179 && cp <= 0x017E) return cp % 2 == 1;
  return false;
}

Accent CombiningAccent(uint32_t cp) {
  switch (cp) {
    case 0x0300: return kGrave;
    case 0x0301: return kAcute;
    case 0x0302: return kCircumflex;
    case 0x0303: return kTilde;
    case 0x0304: return kMacron;
    case 0x0306: return kBreve;
    case 0x0307: return kDotAbove;
    case 0x0308: return kDiaeresis;
    case 0x030A: return kRing;
    case 0x030B: return kDoubleAcute;
    case 0x030C: return kCaron;
    case 0x0327: return kCedilla;
    case 0x0328: return kOgonek;
    default: return kOtherMark;
  }
}

class CeBuilder {
 public:
  CeBuilder(const CollationSpec& spec, std::vector<CE>* out) : spec_(spec), out_(out) {}

  void Letter(char base_lower, bool upper, uint8_t variant = 0, int sub = 0) {
    CE ce;
    ce.primary = LatinPrimary(base_lower, sub);
    ce.secondary = kCommonSecondary;
    ce.upper = upper ? 1 : 0;
    ce.variant = variant;
    out_->push_back(ce);
  }
  void Mark(Accent a) {
    if (a == kNoAccent) return;
    CE ce;
    ce.secondary = static_cast<uint16_t>(kCommonSecondary + a);
    out_->push_back(ce);
  }
  void Primary(uint32_t primary, bool variable = false, bool upper = false, uint8_t variant = 0) {
    CE ce;
    ce.primary = primary;
    ce.secondary = kCommonSecondary;
    ce.variable = variable;
    ce.upper = upper ? 1 : 0;
    ce.variant = variant;
    out_->push_back(ce);
  }
  void Space(uint32_t index) { Primary(kSpaceBase + index, true); }
  void Punct(uint32_t index) {
    Primary(kPunctBase + index, spec_.max_variable == CollationSpec::MaxVariable::kPunct);
  }
  void Symbol(uint32_t index) { Primary(kSymbolBase + index); }

  void CodePoint(uint32_t cp);

 private:
  void Latin1(uint32_t cp);
  void LatinExtA(uint32_t cp);

  const CollationSpec& spec_;
  std::vector<CE>* out_;
};

void CeBuilder::Latin1(uint32_t cp) {
  bool upper = cp < 0xE0;
  size_t slot = (cp - 0xC0) % 0x20;
  switch (cp) {
    case 0xC6: case 0xE6:  // æ = a e (tertiary variant)
      Letter('a', upper, 1);
      Letter('e', upper, 1);
      return;
    case 0xD0: case 0xF0:  // ð: its own letter after d
      Letter('d', upper, 0, 1);
      return;
    case 0xD7: case 0xF7:  // × ÷
      Symbol(0x80 + static_cast<uint32_t>(cp & 0xFF));
      return;
    case 0xDE: case 0xFE:  // þ: its own letter after z
      Letter('z', upper, 0, 1);
      return;
    case 0xDF:  // ß = s s (tertiary variant)
      Letter('s', false, 1);
      Letter('s', false, 1);
      return;
    case 0xFF:  // ÿ
      Letter('y', false);
      Mark(kDiaeresis);
      return;
    default:
      break;
  }
  Letter(kLatin1[slot][0], upper);
  Mark(AccentOf(kLatin1[slot][1]));
}

void CeBuilder::LatinExtA(uint32_t cp) {
  bool upper = UpperInExtA(cp);
  switch (cp) {
    case 0x0131: Letter('i', false, 0, 1); return;                      // ı
    case 0x0132: case 0x0133: Letter('i', cp == 0x0132, 1); Letter('j', cp == 0x0132, 1); return;
    case 0x0138: Letter('q', false, 0, 1); return;                      // ĸ
    case 0x0149: Punct(7); Letter('n', false, 1); return;               // ŉ = 'n
    case 0x014A: case 0x014B: Letter('n', cp == 0x014A, 0, 1); return;  // ŋ
    case 0x0152: case 0x0153: Letter('o', cp == 0x0152, 1); Letter('e', cp == 0x0152, 1); return;
    case 0x017F: Letter('s', false, 1); return;                         // ſ
    default: break;
  }
  size_t slot = cp - 0x100;
  Letter(kLatinExtA[slot][0], upper);
  Mark(AccentOf(kLatinExtA[slot][1]));
}

void CeBuilder::CodePoint(uint32_t cp) {
  if (cp < 0x80) {
    char c = static_cast<char>(cp);
    if (c >= 'a' && c <= 'z') return Letter(c, false);
    if (c >= 'A' && c <= 'Z') return Letter(static_cast<char>(c - 'A' + 'a'), true);
    if (c >= '0' && c <= '9') return Primary(kDigitBase + static_cast<uint32_t>(c - '0'));
    if (auto p = kAsciiSpaces.find(c); p != std::string_view::npos) return Space(static_cast<uint32_t>(p));
    if (auto p = kAsciiPunct.find(c); p != std::string_view::npos) return Punct(static_cast<uint32_t>(p));
    if (auto p = kAsciiSymbols.find(c); p != std::string_view::npos) return Symbol(static_cast<uint32_t>(p));
    return;  // other controls are completely ignorable
  }
  if (cp < 0xA0) {
    if (cp == 0x85) Space(8);
    return;
  }
  if (cp < 0xC0) {
    switch (cp) {
      case 0xA0: return Primary(kSpaceBase + 5, true, false, 1);  // NBSP ~ space
      case 0xAD: return;                                          // soft hyphen
      case 0xAA: return Letter('a', false, 2);                    // ª
      case 0xBA: return Letter('o', false, 2);                    // º
      case 0xB5: return Primary(kGreekBase + 0x03BC, false, false, 1);  // µ ~ μ
      case 0xA1: case 0xA7: case 0xAB: case 0xB6: case 0xB7: case 0xBB: case 0xBF:
        return Punct(0x40 + (cp - 0xA0));
      default:
        return Symbol(0x40 + (cp - 0xA0));
    }
  }
  if (cp < 0x100) return Latin1(cp);
  if (cp < 0x180) return LatinExtA(cp);
  if (cp >= 0x0300 && cp <= 0x036F) return Mark(CombiningAccent(cp));
  if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2) return Primary(kGreekBase + cp + 0x20, false, true);
  if (cp == 0x03C2) return Primary(kGreekBase + 0x03C3, false, false, 1);  // final sigma
  if (cp >= 0x03B1 && cp <= 0x03C9) return Primary(kGreekBase + cp);
  if (cp >= 0x0410 && cp <= 0x042F) return Primary(kCyrillicBase + cp + 0x20, false, true);
  if (cp >= 0x0400 && cp <= 0x040F) return Primary(kCyrillicBase + cp + 0x50, false, true);
  if (cp >= 0x0430 && cp <= 0x045F) return Primary(kCyrillicBase + cp);
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
      cp == 0x202F || cp == 0x205F || cp == 0x3000) {
    return Space(0x10 + (cp & 0x3F));
  }
  if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
      (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF) {
    return;  // format characters: ignorable
  }
  if (cp >= 0x2010 && cp <= 0x205E) return Punct(0x100 + (cp - 0x2010));
  return Primary(kOtherBase + cp);
}

// Decodes one UTF-8 code point at s[*i]; invalid bytes decode as U+FFFD.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(*i);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || *i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    uint8_t cc = b(*i + static_cast<size_t>(k));
    if ((cc & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += static_cast<size_t>(len);
  return cp;
}

void BuildCes(const CollationSpec& spec, std::string_view s, std::vector<CE>* out) {
  CeBuilder b(spec, out);
  size_t i = 0;
  while (i < s.size()) {
    if (spec.numeric_ordering && s[i] >= '0' && s[i] <= '9') {
      size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      std::string_view run = s.substr(start, i - start);
      size_t nz = run.find_first_not_of('0');
      std::string_view digits = nz == std::string_view::npos ? std::string_view("0") : run.substr(nz);
      uint32_t len = static_cast<uint32_t>(std::min<size_t>(digits.size(), kLatinBase - kNumberLenBase - 1));
      b.Primary(kNumberLenBase + len);
      for (char d : digits) b.Primary(kDigitBase + static_cast<uint32_t>(d - '0'));
      continue;
    }
    b.CodePoint(NextCodePoint(s, &i));
  }
}

template <typename T>
int CompareSeq(const std::vector<T>& a, const std::vector<T>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

struct Levels {
  std::vector<uint32_t> primary, secondary, case_bits, tertiary, quaternary;
};

void ComputeLevels(const CollationSpec& spec, const std::vector<CE>& ces, Levels* l) {
  bool shifted = spec.alternate == CollationSpec::Alternate::kShifted;
  bool upper_first = spec.case_first == CollationSpec::CaseFirst::kUpper;
  bool after_variable = false;
  for (const CE& ce : ces) {
    if (ce.primary == 0 && ce.secondary == 0) continue;
    if (shifted && ce.variable) {
      l->quaternary.push_back(ce.primary);
      after_variable = true;
      continue;
    }
    if (ce.primary == 0 && after_variable) continue;  // marks on a shifted character
    after_variable = false;
    uint32_t case_rank = upper_first ? (ce.upper ? 0u : 1u) : ce.upper;
    if (ce.primary != 0) {
      l->primary.push_back(ce.primary);
      l->case_bits.push_back(case_rank);
      if (shifted) l->quaternary.push_back(0xFFFFFFFFu);
    }
    l->secondary.push_back(ce.secondary);
    l->tertiary.push_back(case_rank * 4 + ce.variant);
  }
  if (spec.backwards) std::reverse(l->secondary.begin(), l->secondary.end());
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

}  // namespace

bson::Doc CollationSpec::ToBson() const {
  bson::Builder b;
  b.AppendString("locale", locale);
  b.AppendBool("caseLevel", case_level);
  b.AppendString("caseFirst", case_first == CaseFirst::kUpper   ? "upper"
                              : case_first == CaseFirst::kLower ? "lower"
                                                                : "off");
  b.AppendInt32("strength", strength);
  b.AppendBool("numericOrdering", numeric_ordering);
  b.AppendString("alternate", alternate == Alternate::kShifted ? "shifted" : "non-ignorable");
  b.AppendString("maxVariable", max_variable == MaxVariable::kSpace ? "space" : "punct");
  b.AppendBool("normalization", normalization);
  b.AppendBool("backwards", backwards);
  b.AppendString("version", kCollationVersion);
  return b.Done();
}

bool CollationSpec::operator==(const CollationSpec& o) const {
  return locale == o.locale && case_level == o.case_level && case_first == o.case_first &&
         strength == o.strength && numeric_ordering == o.numeric_ordering &&
         alternate == o.alternate && max_variable == o.max_variable &&
         normalization == o.normalization && backwards == o.backwards;
}

int Collator::Compare(std::string_view a, std::string_view b) const {
  if (a == b) return 0;
  std::vector<CE> ca, cb;
  BuildCes(spec_, a, &ca);
  BuildCes(spec_, b, &cb);
  Levels la, lb;
  ComputeLevels(spec_, ca, &la);
  ComputeLevels(spec_, cb, &lb);
  if (int c = CompareSeq(la.primary, lb.primary)) return c;
  if (spec_.strength >= 2) {
    if (int c = CompareSeq(la.secondary, lb.secondary)) return c;
  }
  if (spec_.case_level) {
    if (int c = CompareSeq(la.case_bits, lb.case_bits)) return c;
  }
  if (spec_.strength >= 3) {
    if (int c = CompareSeq(la.tertiary, lb.tertiary)) return c;
  }
  if (spec_.strength >= 4 && spec_.alternate == CollationSpec::Alternate::kShifted) {
    if (int c = CompareSeq(la.quaternary, lb.quaternary)) return c;
  }
  if (spec_.strength >= 5) return Sign(a.compare(b));
  return 0;
}

StatusWith<CollatorPtr> ParseCollation(bson::View spec) {
  auto locale_e = spec["locale"];
  if (locale_e.missing()) return Status(ErrorCodes::kNoSuchKey, "Missing expected field \"locale\"");
  if (locale_e.type() != bson::Type::kString) return WrongFieldType("locale", locale_e, "string");
  std::string_view locale = locale_e.Str();
  if (locale.find('\0') != std::string_view::npos) {
    return Status(ErrorCodes::kBadValue,
                  "Field 'locale' cannot contain null byte. Collation spec: " + Shell(spec));
  }
  if (locale == kSimple) {
    if (spec.CountFields() > 1) {
      return Status(ErrorCodes::kFailedToParse,
                    "If locale=simple, no other fields should be present in: " + Shell(spec));
    }
    return CollatorPtr();
  }
  if (locale.empty()) {
    return Status(ErrorCodes::kBadValue,
                  "Field 'locale' cannot be the empty string in: " + Shell(spec));
  }
  if (!KnownLocale(locale)) {
    return Status(ErrorCodes::kBadValue, "Field 'locale' is invalid in: " + Shell(spec));
  }
  CollationSpec s;
  s.locale = std::string(locale);
  ApplyLocaleDefaults(&s);
  int parsed = 1;
  BROOK_RETURN_IF_ERROR(ExtractBool(spec, "caseLevel", &s.case_level, &parsed));
  std::optional<std::string> str;
  BROOK_RETURN_IF_ERROR(ExtractString(spec, "caseFirst", &str, &parsed));
  if (str) {
    if (*str == "upper") {
      s.case_first = CollationSpec::CaseFirst::kUpper;
    } else if (*str == "lower") {
      s.case_first = CollationSpec::CaseFirst::kLower;
    } else if (*str == "off") {
      s.case_first = CollationSpec::CaseFirst::kOff;
    } else {
      return Status(ErrorCodes::kFailedToParse,
                    "Field 'caseFirst' must be 'upper', 'lower', or 'off'. Got: " + *str);
    }
  }
  if (auto e = spec["strength"]; !e.missing()) {
    if (!e.IsNumber()) return WrongFieldType("strength", e, "number");
    auto v = e.ExactInt64();
    if (!v) {
      return Status(ErrorCodes::kBadValue,
                    "Expected field \"strength\" to have a value exactly representable as a "
                    "64-bit integer, but found strength: " + e.ToString());
    }
    if (*v < 1 || *v > 5) {
      return Status(ErrorCodes::kFailedToParse,
                    "Field 'strength' must be an integer 1 through 5. Got: " + std::to_string(*v));
    }
    s.strength = static_cast<int>(*v);
    ++parsed;
  }
  BROOK_RETURN_IF_ERROR(ExtractBool(spec, "numericOrdering", &s.numeric_ordering, &parsed));
  str.reset();
  BROOK_RETURN_IF_ERROR(ExtractString(spec, "alternate", &str, &parsed));
  if (str) {
    if (*str == "non-ignorable") {
      s.alternate = CollationSpec::Alternate::kNonIgnorable;
    } else if (*str == "shifted") {
      s.alternate = CollationSpec::Alternate::kShifted;
    } else {
      return Status(ErrorCodes::kFailedToParse,
                    "Field 'alternate' must be 'non-ignorable' or 'shifted'. Got: " + *str);
    }
  }
  str.reset();
  BROOK_RETURN_IF_ERROR(ExtractString(spec, "maxVariable", &str, &parsed));
  if (str) {
    if (*str == "punct") {
      s.max_variable = CollationSpec::MaxVariable::kPunct;
    } else if (*str == "space") {
      s.max_variable = CollationSpec::MaxVariable::kSpace;
    } else {
      return Status(ErrorCodes::kFailedToParse,
                    "Field 'maxVariable' must be 'punct' or 'space'. Got: " + *str);
    }
  }
  BROOK_RETURN_IF_ERROR(ExtractBool(spec, "normalization", &s.normalization, &parsed));
  BROOK_RETURN_IF_ERROR(ExtractBool(spec, "backwards", &s.backwards, &parsed));
  str.reset();
  BROOK_RETURN_IF_ERROR(ExtractString(spec, "version", &str, &parsed));
  if (str && *str != kCollationVersion) {
    return Status(ErrorCodes::kIncompatibleCollationVersion,
                  "Requested collation version " + *str +
                      " but the only available collator version was " +
                      std::string(kCollationVersion) + ". Requested collation spec: " + Shell(spec));
  }
  if (parsed < static_cast<int>(spec.CountFields())) {
    return Status(ErrorCodes::kFailedToParse,
                  "Collation spec contains unknown field. Collation spec: " + Shell(spec));
  }
  if (s.backwards && s.strength == 1) {
    return Status(ErrorCodes::kBadValue,
                  "'backwards' is invalid with 'strength' of 1 in: " + Shell(s.ToBson()));
  }
  if (s.case_first != CollationSpec::CaseFirst::kOff && !s.case_level && s.strength <= 2) {
    return Status(ErrorCodes::kBadValue,
                  "'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater "
                  "than 2 in: " + Shell(s.ToBson()));
  }
  return CollatorPtr(std::make_shared<const Collator>(std::move(s)));
}

bool SameCollation(const Collator* a, const Collator* b) {
  if (!a || !b) return a == b;
  return a->spec() == b->spec();
}

}  // namespace brook::query
