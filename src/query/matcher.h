#pragma once
// The query matcher: MongoDB's find filter language ({a: 1, b: {$gt: 2}, $or: [...]}).
//
// Owns: parsing a filter document into a tree of predicates (with MongoDB's error codes
// and messages for bad filters) and testing documents against it with MongoDB's exact
// semantics: implicit array traversal (query/path.h), null matching missing, comparisons
// only within one canonical type bracket, $ne/$nin as negations, $expr through the
// expression engine. The match records the array position it went through, which the
// positional `$` operator of projections and updates needs.
// Thread-safety: a parsed Matcher is immutable; Matches() may run concurrently.

#include <memory>
#include <string>

#include "bson/compare.h"
#include "bson/document.h"
#include "util/status.h"

namespace brook::query {

struct MatcherOptions {
  const bson::StringComparator* collator = nullptr;
  bool allow_expr = true;
  // User variables ($$name) visible to $expr (the command's `let`); empty if none.
  bson::View let_variables;
  // $$NOW for $expr, 0 for the clock.
  int64_t now_millis = 0;
};

// Filled by a successful match: the array position (as a decimal string) of the outermost
// array the match went through, as the positional `$` operator needs it.
class MatchDetails {
 public:
  bool has_elem_match_key() const { return has_key_; }
  const std::string& elem_match_key() const { return key_; }
  void SetElemMatchKey(std::string key) {
    key_ = std::move(key);
    has_key_ = true;
  }
  void Reset() {
    key_.clear();
    has_key_ = false;
  }

 private:
  std::string key_;
  bool has_key_ = false;
};

namespace matcher_internal {
class Node;
}

class Matcher {
 public:
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Parses a filter. Errors: 2 BadValue for unknown operators and malformed arguments,
  // 51091 for a bad regular expression, 224 QueryFeatureNotAllowed-style errors for
  // $expr when !allow_expr, etc., with MongoDB's messages.
  static StatusWith<std::unique_ptr<Matcher>> Parse(bson::View filter, const MatcherOptions& opts);

  bool Matches(bson::View doc, MatchDetails* details = nullptr) const;
  // Like Matches, but reports a runtime error of $expr (e.g. $divide by zero) instead of
  // treating it as "no match".
  StatusWith<bool> MatchesOrError(bson::View doc, MatchDetails* details = nullptr) const;

  // Matches one value instead of a document field, as $pull with a non-document
  // condition ({$pull: {arr: {$gte: 6}}}) and array filters on scalars need: the filter
  // is a single-field document {"": {<operators>}}.
  bool MatchesValue(const bson::Element& value) const;

  // The filter as given (owned copy).
  bson::View filter() const { return filter_.view(); }

 private:
  Matcher() = default;
  bson::Doc filter_;
  bson::Doc let_;
  int64_t now_millis_ = 0;
  const bson::StringComparator* collator_ = nullptr;
  std::unique_ptr<matcher_internal::Node> root_;
};

}  // namespace brook::query
