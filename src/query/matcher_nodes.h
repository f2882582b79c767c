#pragma once
// Internal to the matcher: the predicate tree a filter parses into.
//
// Owns: one node class per operator family. Path nodes hold a dotted path and test each
// value the path yields (query/path.h) with MatchesSingle(); logical nodes combine
// children. Nodes own copies of their operands, so a tree outlives the filter bytes.
// Thread-safety: immutable after parsing.

#include <memory>
#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/document.h"
#include "query/expression.h"
#include "query/matcher.h"
#include "query/path.h"
#include "util/status.h"

namespace brook::query::matcher_internal {

struct MatchCtx {
  const bson::StringComparator* collator = nullptr;
  bson::View let;
  int64_t now_millis = 0;
  Status* error = nullptr;  // first runtime error of $expr
};

class Node {
 public:
  virtual ~Node() = default;
  virtual bool Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const = 0;
  // Tests one value; meaningful for path predicates and $not of them (the value form of
  // $elemMatch evaluates its operators this way).
  virtual bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const {
    (void)e;
    (void)ctx;
    return false;
  }
};

class AlwaysNode : public Node {
 public:
  explicit AlwaysNode(bool v) : v_(v) {}
  bool Matches(bson::View, MatchDetails*, const MatchCtx&) const override { return v_; }

 private:
  bool v_;
};

class LogicalNode : public Node {
 public:
  enum class Op { kAnd, kOr, kNor };
  explicit LogicalNode(Op op) : op_(op) {}
  void Add(std::unique_ptr<Node> n) { children_.push_back(std::move(n)); }
  size_t size() const { return children_.size(); }
  bool Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const override;
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override;

 private:
  Op op_;
  std::vector<std::unique_ptr<Node>> children_;
};

class NotNode : public Node {
 public:
  explicit NotNode(std::unique_ptr<Node> child) : child_(std::move(child)) {}
  bool Matches(bson::View doc, MatchDetails*, const MatchCtx& ctx) const override {
    return !child_->Matches(doc, nullptr, ctx);
  }
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override {
    return !child_->MatchesSingle(e, ctx);
  }

 private:
  std::unique_ptr<Node> child_;
};

class ExprNode : public Node {
 public:
  explicit ExprNode(std::unique_ptr<Expression> e) : expr_(std::move(e)) {}
  bool Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const override;

 private:
  std::unique_ptr<Expression> expr_;
};

// A predicate on the values at one path.
class PathNode : public Node {
 public:
  PathNode(std::string path, LeafArrayBehavior leaf) : path_(std::move(path)), leaf_(leaf) {}
  bool Matches(bson::View doc, MatchDetails* details, const MatchCtx& ctx) const override;
  // As MatchesSingle; array predicates also report which element matched (-1 if none),
  // recorded for `$` when no outer array was traversed.
  virtual bool MatchesSingleAt(const bson::Element& e, const MatchCtx& ctx, int* inner) const {
    *inner = -1;
    return MatchesSingle(e, ctx);
  }

 protected:
  FieldPath path_;
  LeafArrayBehavior leaf_;
};

class CompareNode : public PathNode {
 public:
  enum class Op { kEq, kLt, kLte, kGt, kGte };
  CompareNode(std::string path, Op op, const bson::Element& rhs);
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override;

 private:
  Op op_;
  bson::Doc rhs_doc_;
  bson::Element rhs_;
};

// A compiled PCRE2 pattern (shared: $in lists and copies refer to one compilation).
class Regex {
 public:
  // Errors: 51091 "Regular expression is invalid: ..." and 51108 for a bad flag.
  static StatusWith<std::shared_ptr<Regex>> Compile(std::string_view pattern, std::string_view flags);
  ~Regex();
  bool Search(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }
  const std::string& flags() const { return flags_; }

 private:
  Regex() = default;
  std::string pattern_;
  std::string flags_;
  void* code_ = nullptr;  // pcre2_code_8*
};

// Matches strings and symbols by the pattern, and regex values that are the same regex.
bool RegexMatchesElement(const Regex& re, const bson::Element& e);

class RegexNode : public PathNode {
 public:
  RegexNode(std::string path, std::shared_ptr<Regex> re)
      : PathNode(std::move(path), LeafArrayBehavior::kTraverse), re_(std::move(re)) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx&) const override {
    return RegexMatchesElement(*re_, e);
  }

 private:
  std::shared_ptr<Regex> re_;
};

class InNode : public PathNode {
 public:
  InNode(std::string path, bson::View array);  // array holds the non-regex values
  void AddRegex(std::shared_ptr<Regex> re) { regexes_.push_back(std::move(re)); }
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override;

 private:
  bson::Doc values_;
  bool has_null_ = false;
  std::vector<std::shared_ptr<Regex>> regexes_;
};

class ExistsNode : public PathNode {
 public:
  explicit ExistsNode(std::string path) : PathNode(std::move(path), LeafArrayBehavior::kTraverse) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx&) const override { return !e.missing(); }
};

class TypeNode : public PathNode {
 public:
  TypeNode(std::string path, std::vector<bson::Type> types, bool any_number)
      : PathNode(std::move(path), LeafArrayBehavior::kTraverse),
        types_(std::move(types)),
        any_number_(any_number) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx&) const override;

 private:
  std::vector<bson::Type> types_;
  bool any_number_;
};

class ModNode : public PathNode {
 public:
  ModNode(std::string path, int64_t divisor, int64_t remainder)
      : PathNode(std::move(path), LeafArrayBehavior::kTraverse), divisor_(divisor), remainder_(remainder) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx&) const override;

 private:
  int64_t divisor_;
  int64_t remainder_;
};

class SizeNode : public PathNode {
 public:
  SizeNode(std::string path, int64_t size)
      : PathNode(std::move(path), LeafArrayBehavior::kNoTraversal), size_(size) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx&) const override;

 private:
  int64_t size_;  // -1 matches nothing
};

// {$elemMatch: {<query on documents>}}: some element, a document or array, matches.
class ElemMatchObjectNode : public PathNode {
 public:
  ElemMatchObjectNode(std::string path, std::unique_ptr<Node> sub)
      : PathNode(std::move(path), LeafArrayBehavior::kNoTraversal), sub_(std::move(sub)) {}
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override {
    int inner;
    return MatchesSingleAt(e, ctx, &inner);
  }
  bool MatchesSingleAt(const bson::Element& e, const MatchCtx& ctx, int* inner) const override;

 private:
  std::unique_ptr<Node> sub_;
};

// {$elemMatch: {$gt: 1, $lt: 5}}: some element satisfies every operator.
class ElemMatchValueNode : public PathNode {
 public:
  explicit ElemMatchValueNode(std::string path)
      : PathNode(std::move(path), LeafArrayBehavior::kNoTraversal) {}
  void Add(std::unique_ptr<Node> n) { subs_.push_back(std::move(n)); }
  bool MatchesSingle(const bson::Element& e, const MatchCtx& ctx) const override {
    int inner;
    return MatchesSingleAt(e, ctx, &inner);
  }
  bool MatchesSingleAt(const bson::Element& e, const MatchCtx& ctx, int* inner) const override;

 private:
  std::vector<std::unique_ptr<Node>> subs_;
};

}  // namespace brook::query::matcher_internal
