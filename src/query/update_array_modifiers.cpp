// The array update operators: $push (with $each/$slice/$sort/$position), $addToSet,
// $pop, $pull and $pullAll.

#include <algorithm>
#include <set>

#include "query/path.h"
#include "query/update_modifiers.h"

namespace brook::query::update_internal {

namespace {

// --- $push -----------------------------------------------------------------------

struct SortSpec {
  bool active = false;
  bool whole = false;  // {$sort: 1|-1}
  int direction = 1;
  std::vector<std::pair<std::string, int>> fields;
};

int CompareForSort(const SortSpec& s, const bson::Element& a, const bson::Element& b,
                   const bson::StringComparator* collator) {
  if (s.whole) return s.direction * bson::CompareValues(a, b, collator);
  for (const auto& [field, dir] : s.fields) {
    bson::Element x, y;
    if (a.type() == bson::Type::kObject) x = a.Obj().GetPath(field);
    if (b.type() == bson::Type::kObject) y = b.Obj().GetPath(field);
    // Missing sorts as null.
    bson::Builder nb;
    nb.AppendNull("");
    bson::Doc null_doc = nb.Done();
    if (x.missing()) x = null_doc.view().first();
    if (y.missing()) y = null_doc.view().first();
    int c = bson::CompareValues(x, y, collator);
    if (c) return dir * c;
  }
  return 0;
}

class PushModifier : public Modifier {
 public:
  static StatusWith<std::unique_ptr<Modifier>> Make(const bson::Element& arg) {
    std::unique_ptr<PushModifier> m(new PushModifier());
    if (arg.type() == bson::Type::kObject && arg.Obj().HasField("$each")) {
      std::set<std::string> seen;
      for (const auto& clause : arg.Obj()) {
        std::string name(clause.key());
        if (name != "$each" && name != "$slice" && name != "$sort" && name != "$position") {
          return BadValue("Unrecognized clause in $push: " + name);
        }
        if (!seen.insert(name).second) return BadValue("Only one " + name + " is supported.");
      }
      bson::Element each = arg.Obj().Get("$each");
      if (each.type() != bson::Type::kArray) {
        return BadValue("The argument to $each in $push must be an array but it was of type: " +
                        std::string(bson::TypeName(each.type())));
      }
      m->values_ = bson::Doc::CopyOf(each.Obj());
      if (bson::Element s = arg.Obj().Get("$slice"); !s.missing()) {
        auto v = IntegralArg(s);
        if (!v) {
          return BadValue("The value for $slice must be an integer value but was given type: " +
                          std::string(bson::TypeName(s.type())));
        }
        m->slice_ = *v;
      }
      if (bson::Element s = arg.Obj().Get("$sort"); !s.missing()) {
        BROOK_RETURN_IF_ERROR(m->ParseSort(s));
      }
      if (bson::Element p = arg.Obj().Get("$position"); !p.missing()) {
        auto v = IntegralArg(p);
        if (!v) {
          return BadValue("The value for $position must be an integer value, not of type: " +
                          std::string(bson::TypeName(p.type())));
        }
        m->position_ = *v;
      }
    } else {
      bson::Builder b;
      b.AppendAs("0", arg);
      m->values_ = b.Done();
    }
    return std::unique_ptr<Modifier>(std::move(m));
  }

  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    if (!t.node->IsArray()) {
      return BadValue("The field '" + Dotted(t.taken) + "' must be an array but is of type " +
                      std::string(bson::TypeName(t.node->type())) + " in document " +
                      ctx.DocIdForMessage());
    }
    t.node->Expand();
    auto result = Push(&t.node->children, ctx);
    if (result == Result::kNoOp) return Outcome::kNoOp;
    if (result == Result::kAppend) {
      size_t n = t.node->children.size();
      size_t count = CountValues();
      for (size_t i = n - count; i < n; ++i) {
        RuntimePath p = t.taken;
        p.push_back(PathComp{std::to_string(i), true});
        ctx.log->Updated(p, t.node->children[i].node->value);
      }
      return Outcome::kLogged;
    }
    return Outcome::kUpdated;
  }

  StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const override {
    MutableNode arr;
    arr.kind = MutableNode::Kind::kArray;
    Push(&arr.children, ctx);
    return ctx.doc->ValueOf(arr);
  }

 private:
  enum class Result { kNoOp, kNormal, kAppend };

  Status ParseSort(const bson::Element& s) {
    sort_.active = true;
    if (s.type() == bson::Type::kObject) {
      if (s.Obj().empty()) return BadValue("The $sort pattern is empty when it should be a set of fields.");
      for (const auto& f : s.Obj()) {
        if (!f.IsNumber() || (f.NumberDouble() != 1 && f.NumberDouble() != -1)) {
          return BadValue("The $sort element value must be either 1 or -1");
        }
        FieldPath fp{std::string(f.key())};
        if (fp.HasEmptyComponent()) {
          return BadValue("The $sort field is a dotted field but has an empty part: " + fp.dotted());
        }
        sort_.fields.emplace_back(std::string(f.key()), f.NumberDouble() > 0 ? 1 : -1);
      }
      return Status::OK();
    }
    if (s.IsNumber()) {
      double d = s.NumberDouble();
      if (d != 1 && d != -1) return BadValue("The $sort element value must be either 1 or -1");
      sort_.whole = true;
      sort_.direction = d > 0 ? 1 : -1;
      return Status::OK();
    }
    return BadValue(
        "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort "
        "embedded fields");
  }

  size_t CountValues() const { return values_.view().CountFields(); }

  Result Push(std::vector<MutableChild>* arr, ApplyCtx& ctx) const {
    Result result = Result::kNoOp;
    std::vector<MutableChild> fresh;
    for (const auto& v : values_.view()) {
      auto n = std::make_unique<MutableNode>();
      n->value = v;
      fresh.push_back(MutableChild{std::string(), std::move(n)});
    }
    if (!fresh.empty()) {
      int64_t size = static_cast<int64_t>(arr->size());
      int64_t at;
      if (size == 0) {
        at = 0;
        result = Result::kNormal;
      } else if (position_ > size) {
        at = size;
        result = Result::kAppend;
      } else if (position_ >= 0) {
        at = position_;
        result = Result::kNormal;
      } else if (position_ > -size) {
        at = size + position_;
        result = Result::kNormal;
      } else {
        at = 0;
        result = Result::kNormal;
      }
      arr->insert(arr->begin() + at, std::make_move_iterator(fresh.begin()),
                  std::make_move_iterator(fresh.end()));
    }
    if (sort_.active) {
      result = Result::kNormal;
      std::vector<std::pair<bson::Element, size_t>> keys;
      for (size_t i = 0; i < arr->size(); ++i) keys.emplace_back(ctx.doc->ValueOf(*(*arr)[i].node), i);
      std::stable_sort(keys.begin(), keys.end(), [&](const auto& x, const auto& y) {
        return CompareForSort(sort_, x.first, y.first, ctx.collator) < 0;
      });
      std::vector<MutableChild> sorted;
      for (auto& k : keys) sorted.push_back(std::move((*arr)[k.second]));
      *arr = std::move(sorted);
    }
    int64_t keep = slice_ == INT64_MIN ? INT64_MAX : (slice_ < 0 ? -slice_ : slice_);
    while (static_cast<int64_t>(arr->size()) > keep) {
      result = Result::kNormal;
      if (slice_ >= 0) {
        arr->pop_back();
      } else {
        arr->erase(arr->begin());
      }
    }
    return result;
  }

  bson::Doc values_;  // an array document
  int64_t slice_ = INT64_MAX;
  int64_t position_ = INT64_MAX;
  SortSpec sort_;
};

// --- $addToSet -------------------------------------------------------------------

class AddToSetModifier : public Modifier {
 public:
  explicit AddToSetModifier(bson::Doc values) : values_(std::move(values)) {}
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    if (!t.node->IsArray()) {
      return BadValue("Cannot apply $addToSet to non-array field. Field named '" + LastName(t) +
                      "' has non-array type " + std::string(bson::TypeName(t.node->type())));
    }
    t.node->Expand();
    auto& kids = t.node->children;
    std::vector<bson::Element> existing;
    for (auto& k : kids) existing.push_back(ctx.doc->ValueOf(*k.node));
    bool added = false;
    for (const auto& v : Deduped(ctx)) {
      bool present = false;
      for (const auto& e : existing) {
        if (bson::CompareValues(e, v, ctx.collator) == 0) {
          present = true;
          break;
        }
      }
      if (present) continue;
      auto n = std::make_unique<MutableNode>();
      n->value = v;
      kids.push_back(MutableChild{std::string(), std::move(n)});
      existing.push_back(v);
      added = true;
    }
    return added ? Outcome::kUpdated : Outcome::kNoOp;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const override {
    bson::Builder b;
    b.OpenArray("");
    std::string scratch;
    size_t i = 0;
    for (const auto& v : Deduped(ctx)) b.AppendAs(bson::ArrayKey(i++, &scratch), v);
    b.Close();
    return ctx.doc->OwnDoc(b.Done());
  }

 private:
  std::vector<bson::Element> Deduped(const ApplyCtx& ctx) const {
    std::vector<bson::Element> out;
    for (const auto& v : values_.view()) {
      bool dup = false;
      for (const auto& o : out) {
        if (bson::CompareValues(o, v, ctx.collator) == 0) {
          dup = true;
          break;
        }
      }
      if (!dup) out.push_back(v);
    }
    return out;
  }
  bson::Doc values_;
};

// --- $pop / $pull / $pullAll ---------------------------------------------------------

class CullingModifier : public Modifier {
 public:
  bool CreatesPath() const override { return false; }
  bool AllowsNonViablePath() const override { return false; }
};

class PopModifier : public CullingModifier {
 public:
  explicit PopModifier(bool front) : front_(front) {}
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx&) const override {
    if (!t.node->IsArray()) {
      return BadValue("Path '" + Dotted(t.taken) + "' contains an element of non-array type '" +
                      std::string(bson::TypeName(t.node->type())) + "'");
    }
    auto& kids = (t.node->Expand(), t.node->children);
    if (kids.empty()) return Outcome::kNoOp;
    if (front_) {
      kids.erase(kids.begin());
    } else {
      kids.pop_back();
    }
    return Outcome::kUpdated;
  }

 private:
  bool front_;
};

class PullModifier : public CullingModifier {
 public:
  // kEquality: remove elements equal to the value; kObject: the value is a query on
  // document elements; kValue: the value is a predicate on each element.
  enum class Mode { kEquality, kObject, kValue };
  PullModifier(Mode mode, bson::Doc value, std::unique_ptr<Matcher> matcher, bool all)
      : mode_(mode), value_(std::move(value)), matcher_(std::move(matcher)), all_(all) {}

  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    if (!t.node->IsArray()) return BadValue("Cannot apply $pull to a non-array value");
    t.node->Expand();
    auto& kids = t.node->children;
    size_t before = kids.size();
    std::vector<MutableChild> kept;
    for (auto& k : kids) {
      if (!Matches(ctx.doc->ValueOf(*k.node), ctx)) kept.push_back(std::move(k));
    }
    kids = std::move(kept);
    return kids.size() == before ? Outcome::kNoOp : Outcome::kUpdated;
  }

 private:
  bool Matches(const bson::Element& e, const ApplyCtx& ctx) const {
    if (all_) {
      for (const auto& v : value_.view()) {
        if (bson::CompareValues(e, v, ctx.collator) == 0) return true;
      }
      return false;
    }
    switch (mode_) {
      case Mode::kEquality: return bson::CompareValues(e, value_.view().first(), ctx.collator) == 0;
      case Mode::kObject: return e.type() == bson::Type::kObject && matcher_->Matches(e.Obj());
      case Mode::kValue: return matcher_->MatchesValue(e);
    }
    return false;
  }

  Mode mode_;
  bson::Doc value_;
  std::unique_ptr<Matcher> matcher_;
  bool all_;
};

bool IsPathAcceptingOperatorDoc(const bson::Element& e) {
  if (e.type() != bson::Type::kObject || e.Obj().empty()) return false;
  std::string_view k = e.Obj().first().key();
  if (k.empty() || k[0] != '$') return false;
  return k != "$and" && k != "$or" && k != "$nor" && k != "$expr" && k != "$where" && k != "$text" &&
         k != "$comment" && k != "$alwaysTrue" && k != "$alwaysFalse" && k != "$jsonSchema";
}

}  // namespace

bool IsArrayModifier(std::string_view op) {
  return op == "$push" || op == "$addToSet" || op == "$pop" || op == "$pull" || op == "$pullAll";
}

StatusWith<std::unique_ptr<Modifier>> MakeArrayModifier(std::string_view op, const std::string& path,
                                                        const bson::Element& arg, const UpdateOptions& opts) {
  using Ptr = std::unique_ptr<Modifier>;
  if (op == "$push") return PushModifier::Make(arg);
  if (op == "$addToSet") {
    if (arg.type() == bson::Type::kObject && arg.Obj().CountFields() == 1 &&
        arg.Obj().first().key() == "$each") {
      bson::Element each = arg.Obj().first();
      if (each.type() != bson::Type::kArray) {
        return BadValue("The argument to $each in $addToSet must be an array but it was of type " +
                        std::string(bson::TypeName(each.type())));
      }
      return Ptr(std::make_unique<AddToSetModifier>(bson::Doc::CopyOf(each.Obj())));
    }
    bson::Builder b;
    b.AppendAs("0", arg);
    return Ptr(std::make_unique<AddToSetModifier>(b.Done()));
  }
  if (op == "$pop") {
    if (!arg.IsNumber()) {
      return Status(ErrorCodes::kFailedToParse, "Expected a number in: " + path + ": " + arg.ToString());
    }
    double d = arg.NumberDouble();
    if (d != 1 && d != -1) {
      return Status(ErrorCodes::kFailedToParse, "$pop expects 1 or -1, found: " + arg.ToString());
    }
    return Ptr(std::make_unique<PopModifier>(d < 0));
  }
  if (op == "$pull") {
    MatcherOptions mo;
    mo.collator = opts.collator;
    if (IsPathAcceptingOperatorDoc(arg)) {
      bson::Builder b;
      b.AppendAs("", arg);
      bson::Doc filter = b.Done();
      auto m = Matcher::Parse(filter, mo);
      if (!m.ok()) return m.status();
      return Ptr(std::make_unique<PullModifier>(PullModifier::Mode::kValue, bson::Doc(),
                                                std::move(m.value()), false));
    }
    if (arg.type() == bson::Type::kObject) {
      auto m = Matcher::Parse(arg.Obj(), mo);
      if (!m.ok()) return m.status();
      return Ptr(std::make_unique<PullModifier>(PullModifier::Mode::kObject, bson::Doc(),
                                                std::move(m.value()), false));
    }
    if (arg.type() == bson::Type::kRegex) {
      bson::Builder b;
      b.AppendAs("", arg);
      bson::Doc filter = b.Done();
      auto m = Matcher::Parse(filter, mo);
      if (!m.ok()) return m.status();
      return Ptr(std::make_unique<PullModifier>(PullModifier::Mode::kValue, bson::Doc(),
                                                std::move(m.value()), false));
    }
    return Ptr(std::make_unique<PullModifier>(PullModifier::Mode::kEquality, OwnValue(arg), nullptr, false));
  }
  if (op == "$pullAll") {
    if (arg.type() != bson::Type::kArray) {
      return BadValue("$pullAll requires an array argument but was given a " +
                      std::string(bson::TypeName(arg.type())));
    }
    return Ptr(std::make_unique<PullModifier>(PullModifier::Mode::kEquality, bson::Doc::CopyOf(arg.Obj()),
                                              nullptr, true));
  }
  return Status(ErrorCodes::kInternalError, "not an array modifier: " + std::string(op));
}

}  // namespace brook::query::update_internal
