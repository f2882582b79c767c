#include "query/update.h"

#include <chrono>
#include <cctype>

#include "bson/builder.h"
#include "query/path.h"
#include "query/update_pipeline.h"
#include "query/update_tree.h"

namespace brook::query {

using update_internal::ApplyCtx;
using update_internal::ArrayFilterMap;
using update_internal::DescriptionRecorder;
using update_internal::MutableDoc;
using update_internal::ParsedUpdate;

namespace update_internal {
ParsedUpdate::~ParsedUpdate() = default;
}  // namespace update_internal

namespace {

constexpr size_t kMaxUserDocSize = 16 * 1024 * 1024;

Status FailedToParse(std::string msg) { return Status(ErrorCodes::kFailedToParse, std::move(msg)); }

// Collects the top-level identifiers an array filter constrains.
Status CollectFilterIdentifiers(bson::View filter, std::set<std::string>* ids) {
  for (const auto& e : filter) {
    std::string_view k = e.key();
    if (k == "$and" || k == "$or" || k == "$nor") {
      if (e.type() != bson::Type::kArray) continue;
      for (const auto& sub : e.Obj()) {
        if (sub.type() == bson::Type::kObject) BROOK_RETURN_IF_ERROR(CollectFilterIdentifiers(sub.Obj(), ids));
      }
      continue;
    }
    if (!k.empty() && k[0] == '$') continue;
    ids->insert(std::string(k.substr(0, k.find('.'))));
  }
  return Status::OK();
}

Status ParseArrayFilters(bson::View filters, const UpdateOptions& opts, ArrayFilterMap* out) {
  for (const auto& f : filters) {
    if (f.type() != bson::Type::kObject) {
      return Status(ErrorCodes::kTypeMismatch, "Each array filter must be an object");
    }
    std::set<std::string> ids;
    BROOK_RETURN_IF_ERROR(CollectFilterIdentifiers(f.Obj(), &ids));
    if (ids.empty()) {
      return FailedToParse("Cannot use an expression without a top-level field name in arrayFilters");
    }
    if (ids.size() > 1) {
      auto it = ids.begin();
      std::string a = *it++;
      return FailedToParse("Error parsing array filter :: caused by :: Expected a single top-level field name, found '" +
                           a + "' and '" + *it + "'");
    }
    const std::string& id = *ids.begin();
    bool valid = !id.empty() && std::islower(static_cast<unsigned char>(id[0]));
    for (char c : id) valid = valid && std::isalnum(static_cast<unsigned char>(c));
    if (!valid) {
      return FailedToParse(
          "Error parsing array filter :: caused by :: The top-level field name must be an "
          "alphanumeric string beginning with a lowercase letter, found '" +
          id + "'");
    }
    if (out->count(id)) {
      return FailedToParse("Found multiple array filters with the same top-level field name " + id);
    }
    MatcherOptions mo;
    mo.collator = opts.collator;
    mo.let_variables = opts.let_variables;
    auto m = Matcher::Parse(f.Obj(), mo);
    if (!m.ok()) return m.status();
    out->emplace(id, std::move(m.value()));
  }
  return Status::OK();
}

bool OverlapsAsPrefix(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return b.substr(0, a.size()) == a && (b.size() == a.size() || b[a.size()] == '.');
}

Status ParseOperators(bson::View update, const UpdateOptions& opts, ParsedUpdate* parsed,
                      bool* positional) {
  std::set<std::string> used;
  for (const auto& op : update) {
    std::string_view name = op.key();
    if (!update_internal::IsKnownModifier(name)) {
      return FailedToParse("Unknown modifier: " + std::string(name) +
                           ". Expected a valid update modifier or pipeline-style update specified as "
                           "an array");
    }
    if (op.type() != bson::Type::kObject) {
      return FailedToParse("Modifiers operate on fields but we found type " +
                           std::string(bson::TypeName(op.type())) +
                           " instead. For example: {$mod: {<field>: ...}} not {" + std::string(name) +
                           ": " + op.ToString() + "}");
    }
    if (op.Obj().empty()) {
      return FailedToParse("'" + std::string(name) + "' is empty. You must specify a field like so: {" +
                           std::string(name) + ": {<field>: ...}}");
    }
    for (const auto& field : op.Obj()) {
      std::string path(field.key());
      auto mod = update_internal::MakeModifier(name, path, field, opts);
      if (!mod.ok()) return mod.status();
      if (name == "$rename") {
        std::string shown = path + ": " + field.ToString();
        if (field.type() != bson::Type::kString) {
          return Status(ErrorCodes::kBadValue, "The 'to' field for $rename must be a string: " + shown);
        }
        std::string to(field.Str());
        if (to == path) {
          return Status(ErrorCodes::kBadValue, "The source and target field for $rename must differ: " + shown);
        }
        if (OverlapsAsPrefix(path, to)) {
          return Status(ErrorCodes::kBadValue,
                        "The source and target field for $rename must not be on the same path: " + shown);
        }
        for (auto c : SplitPath(path)) {
          if (!c.empty() && c[0] == '$') {
            return Status(ErrorCodes::kBadValue, "The source field for $rename may not be dynamic: " + path);
          }
        }
        for (auto c : SplitPath(to)) {
          if (!c.empty() && c[0] == '$') {
            return Status(ErrorCodes::kBadValue, "The destination field for $rename may not be dynamic: " + to);
          }
        }
        BROOK_RETURN_IF_ERROR(update_internal::AddToTree(&parsed->root, path, update_internal::MakePlaceholder(),
                                                         parsed->array_filters, &used, positional));
        BROOK_RETURN_IF_ERROR(update_internal::AddToTree(&parsed->root, to, std::move(mod.value()),
                                                         parsed->array_filters, &used, positional));
        continue;
      }
      BROOK_RETURN_IF_ERROR(update_internal::AddToTree(&parsed->root, path, std::move(mod.value()),
                                                       parsed->array_filters, &used, positional));
    }
  }
  for (const auto& [id, m] : parsed->array_filters) {
    if (!used.count(id)) {
      return FailedToParse("The array filter for identifier '" + id + "' was not used in the update " +
                           update.ToString());
    }
  }
  return Status::OK();
}

Status CheckReplacement(bson::View doc) {
  for (const auto& e : doc) {
    std::string_view k = e.key();
    if (!k.empty() && k[0] == '$') {
      return Status(ErrorCodes::kDollarPrefixedFieldName,
                    "The dollar ($) prefixed field '" + std::string(k) + "' in '" + std::string(k) +
                        "' is not allowed in the context of an update's replacement document. Consider "
                        "using an aggregation pipeline with $replaceWith.");
    }
  }
  return Status::OK();
}

// The document with _id first (moved from wherever it is, or taken from `id`).
bson::Doc WithIdFirst(bson::View doc, const bson::Element& id) {
  bson::Builder b;
  if (!id.missing()) b.AppendAs("_id", id);
  for (const auto& e : doc) {
    if (e.key() == "_id") continue;
    b.Append(e);
  }
  return b.Done();
}

// Checks shared by every kind of update once the new document is known.
Status ValidateNewDocument(bson::View old_doc, bson::View new_doc, bool check_id_unchanged) {
  bson::Element new_id = new_doc.Get("_id");
  bson::Element old_id = old_doc.Get("_id");
  if (check_id_unchanged && !old_id.missing()) {
    if (new_id.missing()) {
      return Status(ErrorCodes::kImmutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been removed.");
    }
    // Compared by value, as MongoDB does: 1 and 1.0 are the same _id.
    if (bson::CompareValues(old_id, new_id) != 0) {
      return Status(ErrorCodes::kImmutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been altered "
                    "to _id: " +
                        new_id.ToString());
    }
  }
  if (!new_id.missing()) {
    bson::Type t = new_id.type();
    if (t == bson::Type::kArray) {
      return Status(ErrorCodes::kNotSingleValueField,
                    "After applying the update to the document, the (immutable) field '_id' was found to "
                    "be an array or array descendant.");
    }
    if (t == bson::Type::kRegex || t == bson::Type::kUndefined) {
      return Status(ErrorCodes::kInvalidIdField,
                    "The '_id' value cannot be of type " + std::string(bson::TypeName(t)));
    }
  }
  if (new_doc.size() > kMaxUserDocSize) {
    return Status(17419, "Resulting document after update is larger than 16777216");
  }
  return Status::OK();
}

int64_t NowMillis(const UpdateOptions& opts) {
  if (opts.now_millis) return opts.now_millis;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

UpdateDriver::UpdateDriver() = default;
UpdateDriver::~UpdateDriver() = default;

StatusWith<std::unique_ptr<UpdateDriver>> UpdateDriver::Parse(const bson::Element& update,
                                                              bson::View array_filters,
                                                              const UpdateOptions& opts) {
  std::unique_ptr<UpdateDriver> d(new UpdateDriver());
  d->opts_ = opts;
  d->let_ = bson::Doc::CopyOf(opts.let_variables);
  d->opts_.let_variables = d->let_.view();
  d->parsed_ = std::make_unique<ParsedUpdate>();
  bson::Builder b;
  b.AppendAs("", update);
  d->update_ = b.Done();
  bson::Element u = d->update_.view().first();

  if (u.type() == bson::Type::kArray) {
    d->kind_ = Kind::kPipeline;
    if (!array_filters.empty()) {
      return Status(ErrorCodes::kFailedToParse, "arrayFilters may not be specified for pipeline-style updates");
    }
    auto p = update_internal::PipelineUpdate::Parse(u.Obj(), d->opts_);
    if (!p.ok()) return p.status();
    d->parsed_->pipeline = std::move(p.value());
    return d;
  }
  if (u.type() != bson::Type::kObject) {
    return Status(ErrorCodes::kFailedToParse, "Update argument must be either an object or an array");
  }
  bson::View doc = u.Obj();
  bool operators = !doc.empty() && !doc.first().key().empty() && doc.first().key()[0] == '$';
  if (!operators) {
    d->kind_ = Kind::kReplacement;
    if (!array_filters.empty()) {
      return Status(ErrorCodes::kFailedToParse, "arrayFilters may not be specified for replacement-style updates");
    }
    BROOK_RETURN_IF_ERROR(CheckReplacement(doc));
    d->parsed_->replacement = bson::Doc::CopyOf(doc);
    return d;
  }
  d->kind_ = Kind::kOperators;
  BROOK_RETURN_IF_ERROR(ParseArrayFilters(array_filters, d->opts_, &d->parsed_->array_filters));
  BROOK_RETURN_IF_ERROR(ParseOperators(doc, d->opts_, d->parsed_.get(), &d->positional_));
  return d;
}

StatusWith<UpdateDriver::Result> UpdateDriver::Apply(bson::View old_doc, const MatchDetails* match,
                                                     bool is_upsert_insert) const {
  Result r;
  int64_t now = NowMillis(opts_);
  switch (kind_) {
    case Kind::kReplacement: {
      bson::View rep = parsed_->replacement.view();
      bson::Element old_id = old_doc.Get("_id");
      // A replacement keeps its own field order; without an _id it keeps the old one, first.
      bson::Doc nd = rep.HasField("_id") || old_id.missing() ? bson::Doc::CopyOf(rep) : WithIdFirst(rep, old_id);
      BROOK_RETURN_IF_ERROR(ValidateNewDocument(old_doc, nd, true));
      r.changed = is_upsert_insert || !bson::BinaryEqual(old_doc, nd);
      r.as_replacement = true;
      r.new_doc = std::move(nd);
      return r;
    }
    case Kind::kPipeline: {
      auto out = parsed_->pipeline->Run(old_doc);
      if (!out.ok()) return out.status();
      bson::View nv = out.value().view();
      bson::Element old_id = old_doc.Get("_id");
      bson::Doc nd = nv.HasField("_id") || old_id.missing() ? bson::Doc::CopyOf(nv) : WithIdFirst(nv, old_id);
      BROOK_RETURN_IF_ERROR(ValidateNewDocument(old_doc, nd, true));
      if (is_upsert_insert) nd = WithIdFirst(nd, nd.view().Get("_id"));
      DescriptionRecorder rec;
      r.changed = is_upsert_insert || !bson::BinaryEqual(old_doc, nd);
      if (r.changed && !update_internal::DiffDocuments(old_doc, nd, &rec)) r.as_replacement = true;
      r.description = rec.Finish();
      r.new_doc = std::move(nd);
      return r;
    }
    case Kind::kOperators: break;
  }
  MutableDoc md(old_doc);
  DescriptionRecorder rec;
  ApplyCtx ctx;
  ctx.doc = &md;
  ctx.log = &rec;
  ctx.collator = opts_.collator;
  ctx.array_filters = &parsed_->array_filters;
  if (match && match->has_elem_match_key()) {
    ctx.has_match = true;
    ctx.match_key = match->elem_match_key();
  }
  ctx.is_insert = is_upsert_insert;
  ctx.now_millis = now;
  ctx.now_ts = opts_.now_timestamp;
  if (ctx.now_ts.IsNull()) ctx.now_ts = bson::Timestamp{static_cast<uint32_t>(now / 1000), 1};
  ctx.old_doc = old_doc;
  BROOK_RETURN_IF_ERROR(update_internal::ApplyTree(parsed_->root, ctx));
  bson::Doc nd = md.ToDoc();
  if (is_upsert_insert) {
    bson::Element seed_id = old_doc.Get("_id");
    bson::Element new_id = nd.view().Get("_id");
    if (!seed_id.missing() && (new_id.missing() || bson::CompareValues(seed_id, new_id) != 0)) {
      return Status(ErrorCodes::kImmutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been altered "
                    "to _id: " +
                        (new_id.missing() ? std::string("missing") : new_id.ToString()));
    }
    if (!new_id.missing()) nd = WithIdFirst(nd, new_id);
  }
  BROOK_RETURN_IF_ERROR(ValidateNewDocument(old_doc, nd, false));
  r.changed = is_upsert_insert || !rec.empty();
  r.description = rec.Finish();
  r.new_doc = std::move(nd);
  return r;
}

namespace {

bool IsOperatorObject(const bson::Element& e) {
  return e.type() == bson::Type::kObject && !e.Obj().empty() && !e.Obj().first().key().empty() &&
         e.Obj().first().key()[0] == '$' && e.Obj().first().key() != "$ref";
}

void CollectEqualities(bson::View query, std::vector<std::pair<std::string, bson::Element>>* out) {
  for (const auto& e : query) {
    std::string_view k = e.key();
    if (k == "$and" && e.type() == bson::Type::kArray) {
      for (const auto& sub : e.Obj()) {
        if (sub.type() == bson::Type::kObject) CollectEqualities(sub.Obj(), out);
      }
      continue;
    }
    if (k == "$or" && e.type() == bson::Type::kArray && e.Obj().CountFields() == 1) {
      bson::Element only = e.Obj().first();
      if (only.type() == bson::Type::kObject) CollectEqualities(only.Obj(), out);
      continue;
    }
    if (!k.empty() && k[0] == '$') continue;
    if (IsOperatorObject(e)) {
      for (const auto& op : e.Obj()) {
        if (op.key() == "$eq") {
          out->emplace_back(std::string(k), op);
        } else if (op.key() == "$in" && op.type() == bson::Type::kArray && op.Obj().CountFields() == 1 &&
                   op.Obj().first().type() != bson::Type::kRegex) {
          out->emplace_back(std::string(k), op.Obj().first());
        }
      }
      continue;
    }
    if (e.type() == bson::Type::kRegex) continue;
    out->emplace_back(std::string(k), e);
  }
}

}  // namespace

StatusWith<bson::Doc> UpdateDriver::SeedUpsertDocument(bson::View query) {
  std::vector<std::pair<std::string, bson::Element>> eqs;
  CollectEqualities(query, &eqs);
  for (size_t i = 0; i < eqs.size(); ++i) {
    for (size_t j = i + 1; j < eqs.size(); ++j) {
      const std::string& a = eqs[i].first;
      const std::string& b = eqs[j].first;
      if (a == b) {
        return Status(ErrorCodes::kNotSingleValueField,
                      "cannot infer query fields to set, path '" + a + "' is matched twice");
      }
      if (OverlapsAsPrefix(a, b)) {
        return Status(ErrorCodes::kNotSingleValueField, "cannot infer query fields to set, both paths '" + a +
                                                            "' and '" + b + "' are matched");
      }
    }
  }
  bson::Builder ub;
  ub.OpenDocument("");
  ub.OpenDocument("$set");
  for (const auto& [path, v] : eqs) {
    if (path == "_id") ub.AppendAs(path, v);
  }
  for (const auto& [path, v] : eqs) {
    if (path != "_id") ub.AppendAs(path, v);
  }
  ub.Close();
  ub.Close();
  bson::Doc u = ub.Done();
  if (eqs.empty()) return bson::Doc();
  auto driver = Parse(u.view().first(), bson::View(), UpdateOptions{});
  if (!driver.ok()) {
    // A path the update system refuses (e.g. "$"-prefixed parts) is not seeded.
    return bson::Doc();
  }
  auto r = driver.value()->Apply(bson::View(), nullptr, true);
  if (!r.ok()) return r.status();
  bson::View nd = r.value().new_doc.view();
  return WithIdFirst(nd, nd.Get("_id"));
}

}  // namespace brook::query
