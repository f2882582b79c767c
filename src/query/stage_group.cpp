// $group (an _id expression and named accumulators), and the stages defined in terms
// of it: $sortByCount ($group + $sort {count: -1}) and $bucket ($group on a $switch
// over the boundaries + $sort {_id: 1}).
#include <map>

#include "query/accumulator.h"
#include "query/stage.h"
#include "query/stage_sort.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

struct AccSpec {
  std::string field;
  std::string op;
  std::unique_ptr<Expression> arg;
};

struct GroupSpec {
  std::unique_ptr<Expression> id;
  std::vector<AccSpec> accs;
};

StatusWith<std::vector<bson::Doc>> RunGroup(const GroupSpec& spec, std::vector<bson::Doc> docs,
                                            const RunContext& rc) {
  const bson::StringComparator* collator = rc.opts->collator;
  struct Group {
    Value key;
    std::vector<std::unique_ptr<Accumulator>> accs;
  };
  auto less = [collator](const Value& a, const Value& b) { return CompareValue(a, b, collator) < 0; };
  std::map<Value, size_t, decltype(less)> index(less);
  std::vector<Group> groups;
  for (const bson::Doc& doc : docs) {
    EvalContext ctx = rc.MakeEval(doc.view());
    auto key = spec.id->Evaluate(ctx);
    if (!key.ok()) return key.status();
    Value k = key.value().missing() ? Value::Null() : std::move(key).value();
    auto it = index.find(k);
    size_t g;
    if (it == index.end()) {
      g = groups.size();
      Group grp;
      grp.key = k;
      for (const AccSpec& a : spec.accs) grp.accs.push_back(MakeAccumulator(a.op, collator));
      groups.push_back(std::move(grp));
      index.emplace(std::move(k), g);
    } else {
      g = it->second;
    }
    for (size_t i = 0; i < spec.accs.size(); ++i) {
      auto v = spec.accs[i].arg->Evaluate(ctx);
      if (!v.ok()) return v.status();
      BROOK_RETURN_IF_ERROR(groups[g].accs[i]->Process(v.value()));
    }
  }
  std::vector<bson::Doc> out;
  out.reserve(groups.size());
  for (const Group& grp : groups) {
    bson::Builder b;
    grp.key.AppendTo(&b, "_id");
    for (size_t i = 0; i < spec.accs.size(); ++i) {
      Value v = grp.accs[i]->Finish();
      if (v.missing()) b.AppendNull(spec.accs[i].field);
      else v.AppendTo(&b, spec.accs[i].field);
    }
    out.push_back(b.Done());
  }
  return out;
}

class GroupStage : public Stage {
 public:
  GroupStage(bson::Doc spec, GroupSpec group) : Stage(std::move(spec)), group_(std::move(group)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    const GroupSpec* g = &group_;
    RunContextPtr ctx = rc;
    return std::unique_ptr<DocumentSource>(new BufferedSource(
        std::move(input), [g, ctx](std::vector<bson::Doc> docs) { return RunGroup(*g, std::move(docs), *ctx); }));
  }

 private:
  GroupSpec group_;
};

// Runs its inner stages in order; the spec shown is the user's.
class ChainStage : public Stage {
 public:
  ChainStage(bson::Doc spec, std::vector<StagePtr> stages)
      : Stage(std::move(spec)), stages_(std::move(stages)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr& rc) const override {
    return OpenStages(stages_, std::move(input), rc);
  }

 private:
  std::vector<StagePtr> stages_;
};

StatusWith<GroupSpec> ParseGroupSpec(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject()) return Status(15947, "a group's fields must be specified in an object");
  GroupSpec g;
  ExpressionParseContext ectx = ctx.ExprContext();
  for (const bson::Element& e : spec.Obj()) {
    std::string_view name = e.key();
    if (name == "_id") {
      if (g.id) return Status(15948, "a group's _id may only be specified once");
      auto id = Expression::Parse(e, ectx);
      if (!id.ok()) return id.status();
      g.id = std::move(id).value();
      continue;
    }
    if (!name.empty() && name[0] == '$') {
      return Status(40236, "The field name '" + std::string(name) + "' cannot be an operator name");
    }
    if (name.find('.') != std::string_view::npos) {
      return Status(40235, "The field name '" + std::string(name) + "' cannot contain '.'");
    }
    if (!e.IsObject()) {
      return Status(40234, "The field '" + std::string(name) + "' must be an accumulator object");
    }
    if (e.Obj().CountFields() != 1) {
      return Status(40238, "The field '" + std::string(name) + "' must specify one accumulator");
    }
    bson::Element acc = e.Obj().first();
    if (!IsAccumulatorName(acc.key())) {
      return Status(15952, "unknown group operator '" + std::string(acc.key()) + "'");
    }
    AccSpec a;
    a.field = std::string(name);
    a.op = std::string(acc.key());
    if (a.op == "$count") {
      if (!acc.IsObject() || !acc.Obj().empty()) {
        return Status(ErrorCodes::kTypeMismatch, "$count takes no arguments, i.e. $count:{}");
      }
      bson::Builder one;
      one.AppendInt32("", 1);
      bson::Doc d = one.Done();
      auto p = Expression::Parse(d.view().first(), ectx);
      if (!p.ok()) return p.status();
      a.arg = std::move(p).value();
    } else {
      if (acc.IsArray()) {
        return Status(40237, "The " + a.op + " accumulator is a unary operator");
      }
      auto p = Expression::Parse(acc, ectx);
      if (!p.ok()) return p.status();
      a.arg = std::move(p).value();
    }
    g.accs.push_back(std::move(a));
  }
  if (!g.id) return Status(15955, "a group specification must include an _id");
  return g;
}

StatusWith<StagePtr> MakeSortStage(std::string_view field, int dir, const ParseContext& ctx) {
  bson::Builder b;
  b.OpenDocument("$sort");
  b.AppendInt32(field, dir);
  b.Close();
  bson::Doc d = b.Done();
  return ParseSortStage(d.view().first(), ctx);
}

}  // namespace

StatusWith<StagePtr> ParseGroupStage(const bson::Element& spec, const ParseContext& ctx) {
  auto g = ParseGroupSpec(spec, ctx);
  if (!g.ok()) return g.status();
  return StagePtr(new GroupStage(SpecDoc(spec), std::move(g).value()));
}

StatusWith<StagePtr> ParseSortByCountStage(const bson::Element& spec, const ParseContext& ctx) {
  if (spec.type() == bson::Type::kString) {
    if (spec.Str().empty() || spec.Str()[0] != '$') {
      return Status(40148, "the sortByCount field must be defined as a $-prefixed path or an "
                           "expression");
    }
  } else if (!spec.IsObject() || spec.Obj().empty() || spec.Obj().first().key()[0] != '$') {
    return Status(40147, "the sortByCount field must be specified as a string or as an object");
  }
  bson::Builder b;
  b.OpenDocument("$group");
  b.AppendAs("_id", spec);
  b.OpenDocument("count");
  b.AppendInt32("$sum", 1);
  b.Close();
  b.Close();
  bson::Doc group_spec = b.Done();
  auto group = ParseGroupStage(group_spec.view().first(), ctx);
  if (!group.ok()) return group.status();
  auto sort = MakeSortStage("count", -1, ctx);
  if (!sort.ok()) return sort.status();
  std::vector<StagePtr> stages;
  stages.push_back(std::move(group).value());
  stages.push_back(std::move(sort).value());
  return StagePtr(new ChainStage(SpecDoc(spec), std::move(stages)));
}

StatusWith<StagePtr> ParseBucketStage(const bson::Element& spec, const ParseContext& ctx) {
  if (!spec.IsObject()) {
    return Status(40201, "Argument to $bucket stage must be an object, but found type: " +
                             std::string(bson::TypeName(spec.type())) + ".");
  }
  bson::Element group_by, boundaries, def, output;
  for (const bson::Element& e : spec.Obj()) {
    if (e.key() == "groupBy") group_by = e;
    else if (e.key() == "boundaries") boundaries = e;
    else if (e.key() == "default") def = e;
    else if (e.key() == "output") output = e;
    else return Status(40197, "Unrecognized option to $bucket: " + std::string(e.key()) + ".");
  }
  if (group_by.missing() || boundaries.missing()) {
    return Status(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
  }
  if (!boundaries.IsArray() || boundaries.Obj().CountFields() < 2) {
    return Status(40192, "The $bucket 'boundaries' field must be an array with at least two "
                         "values.");
  }
  std::vector<bson::Element> bounds(boundaries.Obj().begin(), boundaries.Obj().end());
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (bson::CanonicalTypeRank(bounds[i].type()) != bson::CanonicalTypeRank(bounds[0].type())) {
      return Status(40193, "All values in the the 'boundaries' option to $bucket must have the "
                           "same type.");
    }
    if (bson::CompareValues(bounds[i - 1], bounds[i]) >= 0) {
      return Status(40194, "The 'boundaries' option to $bucket must be sorted in ascending order");
    }
  }
  if (!output.missing() && !output.IsObject()) {
    return Status(40196, "The $bucket 'output' field must be an object");
  }
  // _id: {$switch: {branches: [{case: {$and: [{$gte: [g, b_i]}, {$lt: [g, b_i+1]}]}, then: b_i}]}}
  bson::Builder b;
  b.OpenDocument("$group");
  b.OpenDocument("_id");
  b.OpenDocument("$switch");
  b.OpenArray("branches");
  std::string scratch;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    b.OpenDocument(bson::ArrayKey(i, &scratch));
    b.OpenDocument("case");
    b.OpenArray("$and");
    b.OpenDocument("0");
    b.OpenArray("$gte");
    b.AppendAs("0", group_by);
    b.OpenDocument("1").AppendAs("$literal", bounds[i]).Close();
    b.Close();
    b.Close();
    b.OpenDocument("1");
    b.OpenArray("$lt");
    b.AppendAs("0", group_by);
    b.OpenDocument("1").AppendAs("$literal", bounds[i + 1]).Close();
    b.Close();
    b.Close();
    b.Close();
    b.Close();
    b.OpenDocument("then").AppendAs("$literal", bounds[i]).Close();
    b.Close();
  }
  b.Close();
  if (!def.missing()) b.OpenDocument("default").AppendAs("$literal", def).Close();
  b.Close();
  b.Close();
  if (output.missing()) {
    b.OpenDocument("count").AppendInt32("$sum", 1).Close();
  } else {
    b.AppendAll(output.Obj());
  }
  b.Close();
  bson::Doc group_spec = b.Done();
  auto group = ParseGroupStage(group_spec.view().first(), ctx);
  if (!group.ok()) return group.status();
  auto sort = MakeSortStage("_id", 1, ctx);
  if (!sort.ok()) return sort.status();
  std::vector<StagePtr> stages;
  stages.push_back(std::move(group).value());
  stages.push_back(std::move(sort).value());
  return StagePtr(new ChainStage(SpecDoc(spec), std::move(stages)));
}

}  // namespace brook::query::pipeline_internal
