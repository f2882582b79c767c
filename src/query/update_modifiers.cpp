// The scalar update operators ($set, $setOnInsert, $unset, $inc, $mul, $min, $max,
// $currentDate, $bit, $rename): argument parsing and how each changes an existing value
// or creates a new one. The shared apply step is in update_tree.cpp; the array
// operators are in update_array_modifiers.cpp.

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bson/builder.h"
#include "query/decimal.h"
#include "query/path.h"
#include "query/update_modifiers.h"

namespace brook::query::update_internal {

namespace {

// --- $set / $setOnInsert ---------------------------------------------------------

class SetModifier : public Modifier {
 public:
  SetModifier(const bson::Element& v, bool insert_only)
      : owned_(OwnValue(v)), value_(owned_.view().first()), insert_only_(insert_only) {}
  // $rename's set: `v` already lives in the document being updated (its arena or original
  // bytes) for as long as the update. A copy owned by this modifier would not do: the
  // document's nodes keep pointing at the value after $rename's local modifier is gone.
  struct Borrow {};
  SetModifier(Borrow, const bson::Element& v) : value_(v), insert_only_(false) {}
  SetModifier(const SetModifier&) = delete;  // value_ may point into owned_
  SetModifier& operator=(const SetModifier&) = delete;

  bool InsertOnly() const override { return insert_only_; }
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    bson::Element v = value_;
    if (t.node->kind == MutableNode::Kind::kValue && BinaryEqualValues(t.node->value, v)) {
      return Outcome::kNoOp;
    }
    if (t.node->kind != MutableNode::Kind::kValue && BinaryEqualValues(ctx.doc->ValueOf(*t.node), v)) {
      return Outcome::kNoOp;
    }
    t.node->SetValue(v);
    return Outcome::kUpdated;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx&) const override { return value_; }

 private:
  bson::Doc owned_;  // empty when borrowing
  bson::Element value_;
  bool insert_only_;
};

// --- $unset ----------------------------------------------------------------------

class UnsetModifier : public Modifier {
 public:
  bool CreatesPath() const override { return false; }
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    if (!t.taken.empty()) BROOK_RETURN_IF_ERROR(CheckNotId(t.taken[0].name, Dotted(t.taken), ctx));
    if (t.parent && t.parent->IsArray()) {
      // An $unset of an array element leaves a null in its place.
      bson::Builder b;
      b.AppendNull("");
      t.node->SetValue(ctx.doc->OwnDoc(b.Done()));
      ctx.log->Updated(t.taken, t.node->value);
      return Outcome::kLogged;
    }
    MutableNode* parent = t.parent;
    auto& kids = parent->children;
    for (auto it = kids.begin(); it != kids.end(); ++it) {
      if (it->node.get() == t.node) {
        kids.erase(it);
        break;
      }
    }
    t.node = nullptr;
    ctx.log->Removed(t.taken);
    return Outcome::kLogged;
  }
};

// --- $inc / $mul -----------------------------------------------------------------

int NumRank(bson::Type t) {
  switch (t) {
    case bson::Type::kInt32: return 0;
    case bson::Type::kInt64: return 1;
    case bson::Type::kDouble: return 2;
    default: return 3;
  }
}

Dec128 ToDec(const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::kDecimal128: return Dec128::FromBson(e.Decimal());
    case bson::Type::kDouble: return Dec128::FromBson(bson::Decimal128::FromDouble(e.Double()));
    default: return Dec128::FromBson(bson::Decimal128::FromInt64(e.NumberInt64()));
  }
}

// SafeNum semantics: int32 results widen to int64; int64 overflow is an error.
std::optional<bson::Doc> Arithmetic(bool mul, const bson::Element& a, const bson::Element& b) {
  bson::Builder out;
  int rank = std::max(NumRank(a.type()), NumRank(b.type()));
  if (rank == 3) {
    auto x = ToDec(a), y = ToDec(b);
    out.AppendDecimal128("", (mul ? x * y : x + y).ToBson());
  } else if (rank == 2) {
    double x = a.NumberDouble(), y = b.NumberDouble();
    out.AppendDouble("", mul ? x * y : x + y);
  } else if (rank == 1) {
    int64_t x = a.NumberInt64(), y = b.NumberInt64(), r;
    bool overflow = mul ? __builtin_mul_overflow(x, y, &r) : __builtin_add_overflow(x, y, &r);
    if (overflow) return std::nullopt;
    out.AppendInt64("", r);
  } else {
    int64_t x = a.Int32(), y = b.Int32();
    int64_t r = mul ? x * y : x + y;
    if (r >= INT32_MIN && r <= INT32_MAX) {
      out.AppendInt32("", static_cast<int32_t>(r));
    } else {
      out.AppendInt64("", r);
    }
  }
  return out.Done();
}

class ArithmeticModifier : public Modifier {
 public:
  ArithmeticModifier(const bson::Element& v, bool mul) : arg_(OwnValue(v)), mul_(mul) {}
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    const char* op = mul_ ? "$mul" : "$inc";
    bson::Element cur = ctx.doc->ValueOf(*t.node);
    if (!cur.IsNumber()) {
      return Status(ErrorCodes::kTypeMismatch,
                    std::string("Cannot apply ") + op + " to a value of non-numeric type. " +
                        ctx.DocIdForMessage() + " has the field '" + LastName(t) +
                        "' of non-numeric type " + std::string(bson::TypeName(cur.type())));
    }
    auto r = Arithmetic(mul_, cur, arg_.view().first());
    if (!r) {
      return BadValue(std::string("Failed to apply ") + op + " operations to current value (" +
                      cur.ToString() + ") for document " + ctx.DocIdForMessage());
    }
    bson::Element nv = ctx.doc->OwnDoc(std::move(*r));
    if (BinaryEqualValues(cur, nv)) return Outcome::kNoOp;
    t.node->SetValue(nv);
    return Outcome::kUpdated;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const override {
    bson::Element a = arg_.view().first();
    if (!mul_) return a;
    bson::Builder b;
    switch (a.type()) {
      case bson::Type::kInt32: b.AppendInt32("", 0); break;
      case bson::Type::kInt64: b.AppendInt64("", 0); break;
      case bson::Type::kDouble: b.AppendDouble("", 0.0); break;
      default: {
        bson::Decimal128 z;
        bson::Decimal128::FromString("0", &z);
        b.AppendDecimal128("", z);
      }
    }
    return ctx.doc->OwnDoc(b.Done());
  }

 private:
  bson::Doc arg_;
  bool mul_;
};

// --- $min / $max ---------------------------------------------------------------

class CompareModifier : public Modifier {
 public:
  CompareModifier(const bson::Element& v, bool is_min) : value_(OwnValue(v)), min_(is_min) {}
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    bson::Element cur = ctx.doc->ValueOf(*t.node);
    int c = bson::CompareValues(value_.view().first(), cur, ctx.collator);
    if ((min_ && c < 0) || (!min_ && c > 0)) {
      t.node->SetValue(value_.view().first());
      return Outcome::kUpdated;
    }
    return Outcome::kNoOp;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx&) const override { return value_.view().first(); }

 private:
  bson::Doc value_;
  bool min_;
};

// --- $currentDate ----------------------------------------------------------------

class CurrentDateModifier : public Modifier {
 public:
  explicit CurrentDateModifier(bool timestamp) : timestamp_(timestamp) {}
  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    auto v = NewValue(ctx);
    if (BinaryEqualValues(ctx.doc->ValueOf(*t.node), v.value())) return Outcome::kNoOp;
    t.node->SetValue(v.value());
    return Outcome::kUpdated;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const override {
    bson::Builder b;
    if (timestamp_) {
      b.AppendTimestamp("", ctx.now_ts);
    } else {
      b.AppendDate("", ctx.now_millis);
    }
    return ctx.doc->OwnDoc(b.Done());
  }

 private:
  bool timestamp_;
};

// --- $bit ------------------------------------------------------------------------

class BitModifier : public Modifier {
 public:
  enum class Op { kAnd, kOr, kXor };
  struct Step {
    Op op;
    bson::Doc operand;  // int32 or int64, as {"": v}
  };
  static StatusWith<std::unique_ptr<Modifier>> Make(const std::string& path, const bson::Element& arg) {
    (void)path;
    if (arg.type() != bson::Type::kObject) {
      return BadValue("The $bit modifier is not compatible with a " + std::string(bson::TypeName(arg.type())) +
                      ". You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}");
    }
    if (arg.Obj().empty()) {
      return BadValue(
          "You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}");
    }
    std::unique_ptr<BitModifier> m(new BitModifier());
    for (const auto& op : arg.Obj()) {
      std::string shown = "{" + std::string(op.key()) + ": " + op.ToString() + "}";
      Op o;
      if (op.key() == "and") {
        o = Op::kAnd;
      } else if (op.key() == "or") {
        o = Op::kOr;
      } else if (op.key() == "xor") {
        o = Op::kXor;
      } else {
        return BadValue("The $bit modifier only supports 'and', 'or', and 'xor', not '" + std::string(op.key()) +
                        "' which is an unknown operator: " + shown);
      }
      if (op.type() != bson::Type::kInt32 && op.type() != bson::Type::kInt64) {
        return BadValue("The $bit modifier field must be an Integer(32/64 bit); a '" +
                        std::string(bson::TypeName(op.type())) + "' is not supported here: " + shown);
      }
      m->steps_.push_back(Step{o, OwnValue(op)});
    }
    return std::unique_ptr<Modifier>(std::move(m));
  }

  StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const override {
    bson::Element cur = ctx.doc->ValueOf(*t.node);
    if (cur.type() != bson::Type::kInt32 && cur.type() != bson::Type::kInt64) {
      return BadValue("Cannot apply $bit to a value of non-integral type." + ctx.DocIdForMessage() +
                      " has the field " + LastName(t) + " of non-integer type " +
                      std::string(bson::TypeName(cur.type())));
    }
    bson::Element nv = ctx.doc->OwnDoc(Compute(cur.type() == bson::Type::kInt64, cur.NumberInt64()));
    if (BinaryEqualValues(cur, nv)) return Outcome::kNoOp;
    t.node->SetValue(nv);
    return Outcome::kUpdated;
  }
  StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const override {
    return ctx.doc->OwnDoc(Compute(false, 0));
  }

 private:
  bson::Doc Compute(bool wide, int64_t v) const {
    for (const auto& s : steps_) {
      bson::Element operand = s.operand.view().first();
      wide = wide || operand.type() == bson::Type::kInt64;
      int64_t x = operand.NumberInt64();
      switch (s.op) {
        case Op::kAnd: v &= x; break;
        case Op::kOr: v |= x; break;
        case Op::kXor: v ^= x; break;
      }
      if (!wide) v = static_cast<int32_t>(v);
    }
    bson::Builder b;
    if (wide) {
      b.AppendInt64("", v);
    } else {
      b.AppendInt32("", static_cast<int32_t>(v));
    }
    return b.Done();
  }
  std::vector<Step> steps_;
};

// --- $rename -----------------------------------------------------------------------

// Sits at the source path so that other operators on it conflict; does nothing itself.
class PlaceholderModifier : public Modifier {
 public:
  bool CreatesPath() const override { return false; }
  StatusWith<Outcome> UpdateExisting(Target&, ApplyCtx&) const override { return Outcome::kNoOp; }
  Status Apply(Target&, ApplyCtx&) const override { return Status::OK(); }
};

class RenameModifier : public Modifier {
 public:
  explicit RenameModifier(std::string from) : from_(std::move(from)) {}
  StatusWith<Outcome> UpdateExisting(Target&, ApplyCtx&) const override { return Outcome::kNoOp; }

  Status Apply(Target& t, ApplyCtx& ctx) const override {
    FieldPath src(from_);
    MutableNode* parent = nullptr;
    MutableNode* cur = ctx.doc->root();
    RuntimePath src_path;
    for (size_t i = 0; i < src.size(); ++i) {
      if (cur->IsArray()) {
        return BadValue("The source field cannot be an array element, '" + from_ + "' in doc with " +
                        (src_path.empty() ? std::string() : src_path.back().name) + ": " +
                        ctx.doc->ValueOf(*cur).ToString());
      }
      if (!cur->IsObject()) return Status::OK();
      MutableNode* child = cur->FindField(src[i]);
      if (!child) return Status::OK();
      src_path.push_back(PathComp{std::string(src[i]), false});
      parent = cur;
      cur = child;
    }
    BROOK_RETURN_IF_ERROR(CheckNotId(src_path[0].name, from_, ctx));
    // The destination may not go through an array either.
    Target dest = t;
    for (const auto& c : dest.taken) {
      if (c.is_index) return DestinationError(dest, ctx);
    }
    if (!dest.node && dest.anchor && dest.anchor->IsArray()) return DestinationError(dest, ctx);
    SetModifier set(SetModifier::Borrow{}, ctx.doc->ValueOf(*cur));
    BROOK_RETURN_IF_ERROR(ApplyModifier(set, dest, ctx));
    auto& kids = parent->children;
    for (auto it = kids.begin(); it != kids.end(); ++it) {
      if (it->node.get() == cur) {
        kids.erase(it);
        break;
      }
    }
    ctx.log->Removed(src_path);
    return Status::OK();
  }

 private:
  Status DestinationError(const Target& dest, ApplyCtx&) const {
    return BadValue("The destination field cannot be an array element, '" + dest.FullPath() +
                    "' in doc with an array on its path");
  }
  std::string from_;
};

const char* const kModifiers[] = {"$set",      "$unset", "$inc",  "$mul",         "$min",
                                  "$max",      "$rename", "$setOnInsert", "$currentDate",
                                  "$push",     "$addToSet", "$pop", "$pull",      "$pullAll",
                                  "$bit"};

}  // namespace

bool IsKnownModifier(std::string_view op) {
  for (const char* m : kModifiers) {
    if (op == m) return true;
  }
  return false;
}

std::unique_ptr<Modifier> MakePlaceholder() { return std::make_unique<PlaceholderModifier>(); }

StatusWith<std::unique_ptr<Modifier>> MakeModifier(std::string_view op, const std::string& path,
                                                   const bson::Element& arg,
                                                   const UpdateOptions& opts) {
  using Ptr = std::unique_ptr<Modifier>;
  if (op == "$set") return Ptr(std::make_unique<SetModifier>(arg, false));
  if (op == "$setOnInsert") return Ptr(std::make_unique<SetModifier>(arg, true));
  if (op == "$unset") return Ptr(std::make_unique<UnsetModifier>());
  if (op == "$inc" || op == "$mul") {
    if (!arg.IsNumber()) {
      return Status(ErrorCodes::kTypeMismatch,
                    std::string(op == "$inc" ? "Cannot increment" : "Cannot multiply") +
                        " with non-numeric argument: " + ArgForMessage(path, arg));
    }
    return Ptr(std::make_unique<ArithmeticModifier>(arg, op == "$mul"));
  }
  if (op == "$min" || op == "$max") return Ptr(std::make_unique<CompareModifier>(arg, op == "$min"));
  if (op == "$currentDate") {
    if (arg.type() == bson::Type::kBool) return Ptr(std::make_unique<CurrentDateModifier>(false));
    if (arg.type() == bson::Type::kObject) {
      bool timestamp = false;
      bool found = false;
      for (const auto& f : arg.Obj()) {
        if (f.key() != "$type") return BadValue("Unrecognized $currentDate option: " + std::string(f.key()));
        if (f.type() == bson::Type::kString && (f.Str() == "date" || f.Str() == "timestamp")) {
          timestamp = f.Str() == "timestamp";
          found = true;
          continue;
        }
        return BadValue(
            "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: "
            "{field : {$type: 'date'}}}");
      }
      if (!found) {
        return BadValue(
            "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: "
            "{field : {$type: 'date'}}}");
      }
      return Ptr(std::make_unique<CurrentDateModifier>(timestamp));
    }
    return BadValue(ArgForMessage(path, arg) +
                    " is not valid type for $currentDate. Please use a boolean ('true') or a $type "
                    "expression ({$type: 'timestamp/date'}).");
  }
  if (IsArrayModifier(op)) return MakeArrayModifier(op, path, arg, opts);
  if (op == "$bit") return BitModifier::Make(path, arg);
  if (op == "$rename") {
    // The caller puts this at the destination path; `path` is the source.
    return Ptr(std::make_unique<RenameModifier>(path));
  }
  return Status(ErrorCodes::kFailedToParse,
                "Unknown modifier: " + std::string(op) +
                    ". Expected a valid update modifier or pipeline-style update specified as an array");
}

}  // namespace brook::query::update_internal
