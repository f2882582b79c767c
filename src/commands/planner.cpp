#include "commands/planner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bson/builder.h"
#include "storage/engine.h"
#include "storage/key_string.h"

namespace brook::commands {
namespace {

using catalog::IndexInfo;
using catalog::KeyInterval;

// The smallest and largest values of each canonical type bracket an index can bound.
const bson::Doc& BracketValues() {
  static const bson::Doc* d = [] {
    bson::Builder b;
    b.AppendDouble("num_lo", -std::numeric_limits<double>::infinity());
    b.AppendDouble("num_hi", std::numeric_limits<double>::infinity());
    b.AppendString("str_lo", "");
    b.OpenDocument("str_hi").Close();  // exclusive: the smallest object
    bson::ObjectId lo, hi;
    hi.bytes.fill(0xff);
    b.AppendOid("oid_lo", lo);
    b.AppendOid("oid_hi", hi);
    b.AppendBool("bool_lo", false);
    b.AppendBool("bool_hi", true);
    b.AppendDate("date_lo", std::numeric_limits<int64_t>::min());
    b.AppendDate("date_hi", std::numeric_limits<int64_t>::max());
    b.AppendTimestamp("ts_lo", bson::Timestamp{0, 0});
    b.AppendTimestamp("ts_hi", bson::Timestamp{0xffffffffu, 0xffffffffu});
    return new bson::Doc(b.Done());
  }();
  return *d;
}

// Bracket bounds for a value's type: lower (inclusive) and upper (inclusive unless
// *upper_exclusive). False when the type is not boundable.
bool Bracket(const bson::Element& v, bool has_collation, bson::Element* lo, bson::Element* hi,
             bool* upper_exclusive) {
  const bson::Doc& b = BracketValues();
  *upper_exclusive = false;
  switch (v.type()) {
    case bson::Type::kDouble:
      if (std::isnan(v.Double())) return false;
      [[fallthrough]];
    case bson::Type::kInt32:
    case bson::Type::kInt64:
      *lo = b["num_lo"];
      *hi = b["num_hi"];
      return true;
    case bson::Type::kDecimal128:
      if (v.Decimal().IsNaN()) return false;
      *lo = b["num_lo"];
      *hi = b["num_hi"];
      return true;
    case bson::Type::kString:
      if (has_collation) return false;
      *lo = b["str_lo"];
      *hi = b["str_hi"];
      *upper_exclusive = true;
      return true;
    case bson::Type::kObjectId:
      *lo = b["oid_lo"];
      *hi = b["oid_hi"];
      return true;
    case bson::Type::kBool:
      *lo = b["bool_lo"];
      *hi = b["bool_hi"];
      return true;
    case bson::Type::kDate:
      *lo = b["date_lo"];
      *hi = b["date_hi"];
      return true;
    case bson::Type::kTimestamp:
      *lo = b["ts_lo"];
      *hi = b["ts_hi"];
      return true;
    default:
      return false;
  }
}

bool PointIndexable(const bson::Element& v, bool has_collation) {
  if (v.type() == bson::Type::kNull) return true;
  bson::Element lo, hi;
  bool excl;
  return Bracket(v, has_collation, &lo, &hi, &excl);
}

bool IsOperatorObject(const bson::Element& e) {
  if (!e.IsObject()) return false;
  bson::View o = e.Obj();
  return !o.empty() && !o.first().key().empty() && o.first().key()[0] == '$';
}

struct FieldPredicates {
  std::vector<bson::Element> points;
  bool points_valid = false;  // some $eq/$in was fully usable
  std::optional<bson::Element> lower, upper;
  bool lower_incl = true, upper_incl = true;
};

void CollectPredicates(bson::View filter, std::string_view field, bool has_collation,
                       FieldPredicates* p) {
  for (const auto& e : filter) {
    if (e.key() == "$and" && e.IsArray()) {
      for (const auto& clause : e.Obj()) {
        if (clause.IsObject()) CollectPredicates(clause.Obj(), field, has_collation, p);
      }
      continue;
    }
    if (e.key() != field) continue;
    if (!IsOperatorObject(e)) {
      if (e.type() != bson::Type::kRegex && PointIndexable(e, has_collation) && !p->points_valid) {
        p->points = {e};
        p->points_valid = true;
      }
      continue;
    }
    for (const auto& op : e.Obj()) {
      auto name = op.key();
      if (name == "$eq") {
        if (PointIndexable(op, has_collation) && !p->points_valid) {
          p->points = {op};
          p->points_valid = true;
        }
      } else if (name == "$in" && op.IsArray() && !p->points_valid) {
        std::vector<bson::Element> pts;
        bool ok = true;
        for (const auto& v : op.Obj()) {
          if (!PointIndexable(v, has_collation)) {
            ok = false;
            break;
          }
          pts.push_back(v);
        }
        if (ok && !pts.empty()) {
          p->points = std::move(pts);
          p->points_valid = true;
        }
      } else if (name == "$gt" || name == "$gte") {
        bson::Element lo, hi;
        bool excl;
        if (!Bracket(op, has_collation, &lo, &hi, &excl)) continue;
        if (!p->lower || bson::CompareValues(op, *p->lower) > 0) {
          p->lower = op;
          p->lower_incl = name == "$gte";
        }
        if (!p->upper) {
          p->upper = hi;
          p->upper_incl = !excl;
        }
      } else if (name == "$lt" || name == "$lte") {
        bson::Element lo, hi;
        bool excl;
        if (!Bracket(op, has_collation, &lo, &hi, &excl)) continue;
        if (!p->upper || bson::CompareValues(op, *p->upper) < 0) {
          p->upper = op;
          p->upper_incl = name == "$lte";
        }
        if (!p->lower) {
          p->lower = lo;
          p->lower_incl = true;
        }
      }
    }
  }
}

std::string Encode(const std::string& prefix, const bson::Element& v, bool descending) {
  std::string k = prefix;
  storage::AppendKeyString(v, descending, &k);
  return k;
}

KeyInterval MakeInterval(const std::string& prefix, const bson::Element& lo, bool lo_incl,
                         const bson::Element& hi, bool hi_incl, bool descending) {
  KeyInterval iv;
  if (!descending) {
    std::string l = Encode(prefix, lo, false), h = Encode(prefix, hi, false);
    iv.lower = lo_incl ? l : catalog::PrefixSuccessor(l);
    iv.upper = hi_incl ? catalog::PrefixSuccessor(h) : h;
  } else {
    std::string l = Encode(prefix, lo, true), h = Encode(prefix, hi, true);
    iv.lower = hi_incl ? h : catalog::PrefixSuccessor(h);
    iv.upper = lo_incl ? catalog::PrefixSuccessor(l) : l;
  }
  return iv;
}

std::string Describe(const bson::Element& v) {
  if (v.type() == bson::Type::kString) return "\"" + std::string(v.Str()) + "\"";
  if (v.type() == bson::Type::kDouble && std::isinf(v.Double())) {
    return v.Double() > 0 ? "inf.0" : "-inf.0";
  }
  return v.ToString();
}

std::vector<KeyInterval> MergeIntervals(std::vector<KeyInterval> ivs) {
  std::sort(ivs.begin(), ivs.end(),
            [](const KeyInterval& a, const KeyInterval& b) { return a.lower < b.lower; });
  std::vector<KeyInterval> out;
  for (auto& iv : ivs) {
    if (!iv.upper.empty() && iv.lower >= iv.upper) continue;
    if (!out.empty() && (out.back().upper.empty() || iv.lower <= out.back().upper)) {
      if (!out.back().upper.empty() && (iv.upper.empty() || iv.upper > out.back().upper)) {
        out.back().upper = iv.upper;
      }
      continue;
    }
    out.push_back(std::move(iv));
  }
  return out;
}

std::vector<KeyInterval> FullIndex(const IndexInfo& index) {
  return {KeyInterval{storage::IndexKeyPrefix(index.id), storage::IndexKeyPrefixEnd(index.id)}};
}

bson::Doc FullBounds(const IndexInfo& index) {
  bson::Builder b;
  for (const auto& f : index.pattern.fields) {
    b.OpenArray(f.path);
    b.AppendString("0", "[MinKey, MaxKey]");
    b.Close();
  }
  return b.Done();
}

// Whether scanning `index` forwards (*direction 1) or backwards (-1) yields `sort` order.
bool IndexProvidesSort(const IndexInfo& index, bson::View sort, int* direction) {
  if (sort.empty()) return false;
  size_t i = 0;
  int dir = 0;
  for (const auto& e : sort) {
    if (i >= index.pattern.fields.size() || !e.IsNumber()) return false;
    if (e.key() != index.pattern.fields[i].path) return false;
    bool want_desc = e.NumberDouble() < 0;
    int d = want_desc == index.pattern.fields[i].descending ? 1 : -1;
    if (dir != 0 && d != dir) return false;
    dir = d;
    ++i;
  }
  *direction = dir;
  return true;
}

bool Usable(const IndexInfo& index) {
  return !index.IsIdIndex() && !index.hidden && !index.sparse && !index.partial_filter;
}

}  // namespace

std::optional<std::vector<KeyInterval>> IndexBoundsFor(const IndexInfo& index, bson::View filter,
                                                      bool has_collation, bool* is_point,
                                                      bson::Doc* readable_bounds) {
  if (index.pattern.fields.empty()) return std::nullopt;
  const auto& first = index.pattern.fields.front();
  FieldPredicates p;
  CollectPredicates(filter, first.path, has_collation, &p);
  std::string prefix = storage::IndexKeyPrefix(index.id);
  std::vector<KeyInterval> ivs;
  bson::Builder readable;
  readable.OpenArray(first.path);
  std::string scratch;
  size_t n = 0;
  if (p.points_valid) {
    *is_point = true;
    for (const auto& v : p.points) {
      ivs.push_back(MakeInterval(prefix, v, true, v, true, first.descending));
      readable.AppendString(bson::ArrayKey(n++, &scratch), "[" + Describe(v) + ", " + Describe(v) + "]");
    }
  } else if (p.lower && p.upper) {
    *is_point = false;
    ivs.push_back(MakeInterval(prefix, *p.lower, p.lower_incl, *p.upper, p.upper_incl,
                               first.descending));
    readable.AppendString(bson::ArrayKey(n++, &scratch),
                          std::string(p.lower_incl ? "[" : "(") + Describe(*p.lower) + ", " +
                              Describe(*p.upper) + (p.upper_incl ? "]" : ")"));
  } else {
    return std::nullopt;
  }
  readable.Close();
  for (size_t i = 1; i < index.pattern.fields.size(); ++i) {
    readable.OpenArray(index.pattern.fields[i].path);
    readable.AppendString("0", "[MinKey, MaxKey]");
    readable.Close();
  }
  if (readable_bounds) *readable_bounds = readable.Done();
  return MergeIntervals(std::move(ivs));
}

StatusWith<std::unique_ptr<query::Matcher>> ParseFilter(bson::View filter,
                                                        const bson::StringComparator* collator,
                                                        bson::View let) {
  query::MatcherOptions opts;
  opts.collator = collator;
  opts.let_variables = let;
  return query::Matcher::Parse(filter, opts);
}

std::shared_ptr<storage::Snapshot> BorrowSnapshot(storage::Snapshot* snap) {
  return std::shared_ptr<storage::Snapshot>(snap, [](storage::Snapshot*) {});
}

const char* PlanDescription::StageName(PlanStage s) {
  switch (s) {
    case PlanStage::kEof:
      return "EOF";
    case PlanStage::kCollScan:
      return "COLLSCAN";
    case PlanStage::kIdHack:
      return "IDHACK";
    case PlanStage::kIxScan:
      return "IXSCAN";
  }
  return "COLLSCAN";
}

bson::Doc PlanDescription::ToWinningPlan(bson::View filter) const {
  bson::Builder b;
  switch (stage) {
    case PlanStage::kEof:
      b.AppendString("stage", "EOF");
      break;
    case PlanStage::kIdHack:
      b.AppendString("stage", "IDHACK");
      break;
    case PlanStage::kCollScan:
      b.AppendString("stage", "COLLSCAN");
      if (!filter.empty()) b.AppendDocument("filter", filter);
      b.AppendString("direction", direction > 0 ? "forward" : "backward");
      break;
    case PlanStage::kIxScan:
      b.AppendString("stage", "FETCH");
      if (!filter.empty()) b.AppendDocument("filter", filter);
      b.OpenDocument("inputStage");
      b.AppendString("stage", "IXSCAN");
      b.AppendDocument("keyPattern", key_pattern);
      b.AppendString("indexName", index_name);
      b.AppendBool("isMultiKey", false);
      b.AppendBool("isUnique", false);
      b.AppendBool("isSparse", false);
      b.AppendBool("isPartial", false);
      b.AppendInt32("indexVersion", 2);
      b.AppendString("direction", direction > 0 ? "forward" : "backward");
      b.AppendDocument("indexBounds", index_bounds);
      b.Close();
      break;
  }
  return b.Done();
}

QueryPlan::~QueryPlan() = default;

int64_t QueryPlan::keys_examined() const { return index_ ? index_->keys_examined() : 0; }
int64_t QueryPlan::docs_examined() const {
  if (index_) return index_->docs_examined();
  if (records_) return records_->docs_examined();
  return id_examined_;
}

StatusWith<std::unique_ptr<QueryPlan>> QueryPlan::Make(std::shared_ptr<storage::Snapshot> snap,
                                                       catalog::CollectionPtr coll,
                                                       const QueryRequest& req) {
  std::unique_ptr<QueryPlan> plan(new QueryPlan());
  auto matcher = ParseFilter(req.filter, req.collator, req.let);
  if (!matcher.ok()) return matcher.status();
  plan->matcher_ = std::move(matcher).value();
  plan->snap_ = std::move(snap);
  plan->coll_ = coll;
  auto& desc = plan->desc_;

  const IndexInfo* hinted = nullptr;
  bool natural_hint = false;
  if (!req.hint.missing()) {
    bool bad = false;
    if (req.hint.type() == bson::Type::kString) {
      if (coll) hinted = coll->FindIndex(req.hint.Str());
      bad = !hinted;
    } else if (req.hint.IsObject()) {
      bson::View h = req.hint.Obj();
      if (h.empty()) {
        // {} means "no hint"
      } else if (h.first().key() == "$natural") {
        natural_hint = true;
        desc.direction = h.first().NumberDouble() < 0 ? -1 : 1;
      } else {
        if (coll) hinted = coll->FindIndexByKey(h);
        bad = !hinted;
      }
    } else {
      return Status(ErrorCodes::kFailedToParse, "hint must be a string or an object");
    }
    if (bad && coll) {
      return Status(ErrorCodes::kBadValue,
                    "error processing query: ns=" + req.ns.ns() +
                        " planner returned error :: caused by :: hint provided does not "
                        "correspond to an existing index");
    }
    if (hinted && hinted->hidden) {
      return Status(ErrorCodes::kBadValue,
                    "error processing query: ns=" + req.ns.ns() +
                        " planner returned error :: caused by :: hint provided does not "
                        "correspond to an existing index");
    }
  }

  if (!coll) {
    desc.stage = PlanStage::kEof;
    return plan;
  }

  auto use_index = [&](const IndexInfo& index, std::vector<KeyInterval> ivs, bson::Doc bounds,
                       int direction) {
    desc.stage = PlanStage::kIxScan;
    desc.index_name = index.name;
    desc.key_pattern = index.key;
    desc.direction = direction;
    desc.index_bounds = std::move(bounds);
    if (direction < 0) std::reverse(ivs.begin(), ivs.end());
    plan->index_ = std::make_unique<catalog::IndexCursor>(plan->snap_, *coll, index,
                                                          std::move(ivs), direction > 0);
  };

  // _id equality: a point lookup.
  auto id_pred = req.filter["_id"];
  bool id_eq = !id_pred.missing() && !id_pred.IsArray() && id_pred.type() != bson::Type::kRegex &&
               !IsOperatorObject(id_pred) &&
               !(id_pred.type() == bson::Type::kString && req.has_collation);
  if (id_eq && !natural_hint && (!hinted || hinted->IsIdIndex())) {
    desc.stage = PlanStage::kIdHack;
    desc.provides_sort = true;  // at most one document
    auto found = catalog::FindById(*plan->snap_, *coll, id_pred);
    if (!found.ok()) return found.status();
    plan->id_hit_ = std::move(found).value();
    return plan;
  }

  if (hinted && !hinted->IsIdIndex()) {
    bool is_point = false;
    bson::Doc bounds;
    auto ivs = IndexBoundsFor(*hinted, req.filter, req.has_collation, &is_point, &bounds);
    int direction = 1;
    // Index keys hold binary strings: under a collation they do not give its order.
    desc.provides_sort = !req.has_collation && IndexProvidesSort(*hinted, req.sort, &direction);
    if (!ivs) {
      ivs = FullIndex(*hinted);
      bounds = FullBounds(*hinted);
    }
    use_index(*hinted, std::move(*ivs), std::move(bounds), direction);
    return plan;
  }

  if (!natural_hint && !hinted) {
    const IndexInfo* best = nullptr;
    int best_score = 0;
    std::vector<KeyInterval> best_ivs;
    bson::Doc best_bounds;
    for (const auto& index : coll->indexes) {
      if (!Usable(index)) continue;
      bool is_point = false;
      bson::Doc bounds;
      auto ivs = IndexBoundsFor(index, req.filter, req.has_collation, &is_point, &bounds);
      if (!ivs) continue;
      int dir;
      int score = (is_point ? 4 : 2) + (IndexProvidesSort(index, req.sort, &dir) ? 1 : 0);
      if (score > best_score) {
        best = &index;
        best_score = score;
        best_ivs = std::move(*ivs);
        best_bounds = std::move(bounds);
      }
    }
    if (best) {
      int direction = 1;
      desc.provides_sort = !req.has_collation && IndexProvidesSort(*best, req.sort, &direction);
      use_index(*best, std::move(best_ivs), std::move(best_bounds), direction);
      return plan;
    }
    // No predicate to bound, but an index yields the requested order.
    for (const auto& index : coll->indexes) {
      int direction = 1;
      if (Usable(index) && !req.has_collation && IndexProvidesSort(index, req.sort, &direction)) {
        desc.provides_sort = true;
        use_index(index, FullIndex(index), FullBounds(index), direction);
        return plan;
      }
    }
  }

  // Collection scan in _id order; a sort on _id alone (or $natural) it provides.
  desc.stage = PlanStage::kCollScan;
  if (!natural_hint) {
    auto s = req.sort["$natural"];
    if (!s.missing()) desc.direction = s.NumberDouble() < 0 ? -1 : 1;
  }
  if (!req.sort.empty() && req.sort.CountFields() == 1) {
    auto f = req.sort.first();
    if (f.key() == "_id" && f.IsNumber() && !req.has_collation) {
      desc.direction = f.NumberDouble() < 0 ? -1 : 1;
      desc.provides_sort = true;
    } else if (f.key() == "$natural") {
      desc.provides_sort = true;
    }
  }
  plan->records_ = std::make_unique<catalog::RecordCursor>(plan->snap_, coll->id, desc.direction > 0);
  return plan;
}

StatusWith<bool> QueryPlan::Next(bson::Doc* out, query::MatchDetails* details) {
  while (true) {
    bson::Doc doc;
    switch (desc_.stage) {
      case PlanStage::kEof:
        return false;
      case PlanStage::kIdHack:
        if (id_done_ || !id_hit_) return false;
        id_done_ = true;
        ++id_examined_;
        doc = std::move(*id_hit_);
        id_hit_.reset();
        break;
      case PlanStage::kCollScan: {
        auto more = records_->Next(&doc);
        if (!more.ok()) return more.status();
        if (!more.value()) return false;
        break;
      }
      case PlanStage::kIxScan: {
        auto more = index_->Next(&doc);
        if (!more.ok()) return more.status();
        if (!more.value()) return false;
        break;
      }
    }
    if (details) details->Reset();
    auto matched = matcher_->MatchesOrError(doc, details);
    if (!matched.ok()) return matched.status();
    if (!matched.value()) continue;
    *out = std::move(doc);
    return true;
  }
}

}  // namespace brook::commands
