#pragma once
// Collation: MongoDB's collation document ({locale, strength, caseLevel, caseFirst,
// numericOrdering, alternate, maxVariable, backwards, normalization, version}) parsed
// with MongoDB's validation errors, and a string comparator that approximates ICU's
// root collation WITHOUT ICU (not an allowed dependency).
//
// Owns: parsing/validating a collation spec, its normalized form (every field filled in,
// as listCollections/listIndexes/explain print it), and Collator::Compare.
//
// What is exact: the accepted fields, their types, defaults (per locale for the few
// locales whose defaults differ), the errors; "simple" (binary) is a null collator.
//
// What is APPROXIMATED (results may differ from MongoDB/ICU for non-ASCII text):
//  - Locales: accepted from a fixed table of MongoDB's supported languages, optionally
//    followed by "_" and a 2-letter uppercase region ("en_US", "fr_CA"); every locale
//    compares with the same root-like order (no tailorings: no Swedish å-after-z, no
//    German phonebook, no CJK orders).
//  - Primary order: ignorables (controls, format chars) < spaces < punctuation <
//    symbols < digits < Latin letters a..z < every other code point by code point value.
//    Within spaces/punctuation/symbols the order is by code point (ICU uses the DUCET
//    order, which differs in places).
//  - Letters: ASCII, Latin-1 Supplement and Latin Extended-A fold to base letters with
//    an accent mark (secondary) and a case bit (tertiary): "é" = "e" + acute,
//    "Å" = "A" + ring. Expansions: ß = ss, æ = ae, œ = oe, ĳ = ij (tertiary variants).
//    ð, þ, ĸ, ŋ, ı get their own primaries after the Latin letters' block.
//    Greek and Cyrillic fold case (basic blocks only). Combining diacritical marks
//    (U+0300..U+036F) are secondary-only, so "e\u0301" equals "é" (a poor man's NFD).
//    No other normalization: the `normalization` flag is accepted and has no effect.
//  - Secondary weights: one per accent kind; accent kinds are ordered by a fixed table
//    (acute < grave < breve < circumflex < caron < ring < diaeresis < double acute <
//    tilde < dot < stroke < cedilla < ogonek < macron), close to but not exactly DUCET.
//  - Tertiary: lowercase < uppercase (caseFirst "off"/"lower"), uppercase first with
//    caseFirst "upper"; expansions (ß, æ, ...) are tertiary variants of their letters.
//  - caseLevel inserts a case-only level after the secondary one (as ICU does).
//  - alternate "shifted": spaces and punctuation (maxVariable "punct") or spaces only
//    (maxVariable "space") are ignored at levels 1-3 and compared at level 4.
//  - backwards: secondary weights compared from the end of the string (French).
//  - numericOrdering: runs of ASCII digits compare by numeric value.
//  - strength 5 (identical): ties are broken by code point order.
//  - Invalid UTF-8 bytes compare as U+FFFD.
// Thread-safety: a Collator is immutable and may be shared by threads.

#include <memory>
#include <string>
#include <string_view>

#include "bson/compare.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::query {

struct CollationSpec {
  enum class CaseFirst { kOff, kUpper, kLower };
  enum class Alternate { kNonIgnorable, kShifted };
  enum class MaxVariable { kPunct, kSpace };

  std::string locale;
  bool case_level = false;
  CaseFirst case_first = CaseFirst::kOff;
  int strength = 3;  // 1..5
  bool numeric_ordering = false;
  Alternate alternate = Alternate::kNonIgnorable;
  MaxVariable max_variable = MaxVariable::kPunct;
  bool normalization = false;
  bool backwards = false;

  // {locale, caseLevel, caseFirst, strength, numericOrdering, alternate, maxVariable,
  // normalization, backwards, version}: MongoDB's field order.
  bson::Doc ToBson() const;
  bool operator==(const CollationSpec& o) const;
};

// The ICU version MongoDB 7.0 reports in a collation's `version` field.
inline constexpr std::string_view kCollationVersion = "57.1";

class Collator : public bson::StringComparator {
 public:
  explicit Collator(CollationSpec spec) : spec_(std::move(spec)) {}
  int Compare(std::string_view a, std::string_view b) const override;
  const CollationSpec& spec() const { return spec_; }

 private:
  CollationSpec spec_;
};

using CollatorPtr = std::shared_ptr<const Collator>;

// Parses a collation document. {locale: "simple"} yields nullptr (binary comparison).
// Errors as MongoDB's collator factory: missing locale NoSuchKey (4), wrong types
// TypeMismatch (14), unknown locale BadValue (2) "Field 'locale' is invalid in: ...",
// bad enum values / unknown fields / extra fields with "simple" FailedToParse (9),
// invalid combinations BadValue (2).
StatusWith<CollatorPtr> ParseCollation(bson::View spec);

// Whether two collators compare identically (both null = both simple).
bool SameCollation(const Collator* a, const Collator* b);

}  // namespace brook::query
