#include "changestream/route_key.h"

#include <algorithm>

#include "storage/key_string.h"

namespace brook::changestream {
namespace {

constexpr std::string_view kFullDocumentPrefix = "fullDocument.";

// A value an equality can be routed on: one whose $match equality is plain value
// equality. Null/undefined also match missing fields, a regex matches strings, an array
// literal also matches an array holding it as an element, MinKey/MaxKey and symbols are
// rare enough to leave alone.
bool Routable(const bson::Element& v) {
  switch (v.type()) {
    case bson::Type::kEOO:
    case bson::Type::kNull:
    case bson::Type::kUndefined:
    case bson::Type::kRegex:
    case bson::Type::kArray:
    case bson::Type::kMinKey:
    case bson::Type::kMaxKey:
    case bson::Type::kSymbol:
      return false;
    case bson::Type::kObject:
      // {$eq: ...} and friends are operators, handled by the caller; a literal document
      // whose first key starts with '$' is not a value.
      return v.Obj().empty() || v.Obj().first().key().empty() || v.Obj().first().key()[0] != '$';
    default:
      return true;
  }
}

// The values `cond` pins a field to: v, {$eq: v}, {$in: [v...]}; nullopt when it pins
// nothing routable. `as_string`: only string values count (operationType, ns.*) and the
// result holds the strings themselves, not KeyStrings.
std::optional<std::vector<std::string>> PinnedValues(const bson::Element& cond, bool as_string) {
  auto one = [&](const bson::Element& v, std::vector<std::string>* out) -> bool {
    if (as_string) {
      if (v.type() != bson::Type::kString) return false;
      out->emplace_back(v.Str());
      return true;
    }
    if (!Routable(v)) return false;
    out->push_back(storage::KeyStringOf(v));
    return true;
  };
  std::vector<std::string> values;
  if (cond.IsObject() && !cond.Obj().empty() && !cond.Obj().first().key().empty() &&
      cond.Obj().first().key()[0] == '$') {
    bson::View ops = cond.Obj();
    // Exactly one operator: with more ({$in: [...], $ne: ...}) the field is still pinned
    // by $eq/$in, but keeping to one keeps this obviously right.
    size_t n = 0;
    for (const auto& e : ops) {
      (void)e;
      ++n;
    }
    if (n != 1) return std::nullopt;
    bson::Element op = ops.first();
    if (op.key() == "$eq") {
      if (!one(op, &values)) return std::nullopt;
    } else if (op.key() == "$in") {
      if (!op.IsArray()) return std::nullopt;
      for (const auto& v : op.Obj()) {
        if (!one(v, &values)) return std::nullopt;
      }
      if (values.empty()) return std::nullopt;  // matches nothing; leave it to the stage
    } else {
      return std::nullopt;
    }
  } else if (!one(cond, &values)) {
    return std::nullopt;
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// Two conjuncts on one field: an event must satisfy both, so either list is a correct
// (conservative) pin; keep the first.
template <typename T>
void PinOnce(std::optional<T>* slot, std::optional<T> values) {
  if (!*slot && values) *slot = std::move(values);
}

void ReadMatch(bson::View match, bool full_document_default, RouteKey* key) {
  for (const auto& e : match) {
    std::string_view field = e.key();
    if (field == "$and") {
      if (!e.IsArray()) continue;
      for (const auto& c : e.Obj()) {
        if (c.IsObject()) ReadMatch(c.Obj(), full_document_default, key);
      }
    } else if (field == "operationType") {
      PinOnce(&key->operation_types, PinnedValues(e, true));
    } else if (field == "ns.db") {
      auto v = PinnedValues(e, true);
      if (v && v->size() == 1 && !key->ns_db) key->ns_db = v->front();
    } else if (field == "ns.coll") {
      PinOnce(&key->ns_colls, PinnedValues(e, true));
    } else if (field == "ns") {
      // {ns: {db, coll}}: a literal document.
      if (!e.IsObject()) continue;
      bson::Element db = e.Obj()["db"], coll = e.Obj()["coll"];
      if (db.type() == bson::Type::kString && !key->ns_db) key->ns_db = std::string(db.Str());
      if (coll.type() == bson::Type::kString && !key->ns_colls) {
        key->ns_colls = std::vector<std::string>{std::string(coll.Str())};
      }
    } else if (field == "documentKey._id") {
      PinOnce(&key->document_ids, PinnedValues(e, false));
    } else if (full_document_default && field.size() > kFullDocumentPrefix.size() &&
               field.substr(0, kFullDocumentPrefix.size()) == kFullDocumentPrefix) {
      auto v = PinnedValues(e, false);
      if (v) {
        key->full_document.push_back(
            RouteKey::FieldValues{std::string(field.substr(kFullDocumentPrefix.size())), std::move(*v)});
      }
    }
  }
}

bool Contains(const std::vector<std::string>& sorted, std::string_view v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

}  // namespace

RouteKey RouteKey::FromPlan(const ChangeStreamPlan& plan) {
  RouteKey key;
  key.scope = plan.spec.scope;
  bson::View stages = plan.user_stages;
  if (stages.empty()) return key;
  bson::Element first = stages.first();
  if (!first.IsObject() || first.Obj().empty()) return key;
  bson::Element match = first.Obj().first();
  if (match.key() != "$match" || !match.IsObject()) return key;
  ReadMatch(match.Obj(), plan.spec.full_document == FullDocumentMode::kDefault, &key);
  if (key.ns_colls) {
    std::sort(key.ns_colls->begin(), key.ns_colls->end());
  }
  if (key.operation_types) {
    std::sort(key.operation_types->begin(), key.operation_types->end());
  }
  return key;
}

bool RouteKey::IsFilterable(const ChangeEvent& ev) {
  const std::string& t = ev.operation_type;
  if (t != "insert" && t != "update" && t != "replace" && t != "delete") return false;
  // A write to system.views may be a view event for database and cluster streams.
  return ev.coll != kSystemViewsColl;
}

std::optional<std::string> RouteKey::DocumentIdValue(const ChangeEvent& ev) {
  if (!ev.document_key) return std::string();
  bson::Element id = (*ev.document_key)["_id"];
  if (id.missing()) return std::string();
  if (id.IsArray()) return std::nullopt;
  return storage::KeyStringOf(id);
}

std::optional<std::string> RouteKey::FullDocumentValue(const ChangeEvent& ev, const std::string& path) {
  if (ev.full_document.state != Image::State::kDoc) return std::string();
  bson::View doc = ev.full_document.doc;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view part = std::string_view(path).substr(start, dot == std::string::npos ? dot : dot - start);
    bson::Element e = doc.Get(part);
    if (e.missing()) return std::string();
    if (e.IsArray()) return std::nullopt;  // $match looks into arrays: unknown
    if (dot == std::string::npos) return storage::KeyStringOf(e);
    if (!e.IsObject()) return std::string();
    doc = e.Obj();
    start = dot + 1;
  }
}

bool RouteKey::MayMatch(const ChangeEvent& ev) const {
  if (!IsFilterable(ev)) return true;
  // The scope, for CRUD events (a cheap pre-check; stage 1 still decides).
  if (scope.kind != Scope::Kind::kCluster && ev.db != scope.db) return false;
  if (scope.kind == Scope::Kind::kCollection && ev.coll != scope.coll) return false;
  if (operation_types && !Contains(*operation_types, ev.operation_type)) return false;
  if (ns_db && ev.db != *ns_db) return false;
  if (ns_colls && !Contains(*ns_colls, ev.coll)) return false;
  if (document_ids) {
    auto id = DocumentIdValue(ev);
    if (id && !Contains(*document_ids, *id)) return false;
  }
  for (const auto& f : full_document) {
    auto v = FullDocumentValue(ev, f.path);
    if (v && !Contains(f.values, *v)) return false;
  }
  return true;
}

}  // namespace brook::changestream
