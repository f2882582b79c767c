// Stages 1-3: oplog match, unwind transaction, transform (oplog operation -> event).
// Facts from MongoDB 7.0's change_stream_event_transform.cpp: which oplog field feeds
// which event field, the operationDescription of each DDL event, and the token's event
// identifier ({operationType, documentKey} or {operationType, operationDescription}).

#include <algorithm>

#include "bson/builder.h"
#include "changestream/stages.h"

namespace brook::changestream {
namespace {

bson::Doc DocWithout(bson::View src, std::initializer_list<std::string_view> drop) {
  bson::Builder b;
  for (const auto& e : src) {
    bool skip = false;
    for (auto d : drop) skip = skip || e.key() == d;
    if (!skip) b.Append(e);
  }
  return b.Done();
}

// {indexes: [spec]}: createIndexes and dropIndexes wrap the one spec in an array, as
// MongoDB does for consistency with commitIndexBuild.
bson::Doc IndexesDoc(bson::View spec) {
  bson::Builder b;
  b.OpenArray("indexes");
  b.AppendDocument("0", spec);
  b.Close();
  return b.Done();
}

std::pair<std::string_view, std::string_view> SplitNs(std::string_view ns) {
  size_t dot = ns.find('.');
  if (dot == std::string_view::npos) return {ns, std::string_view()};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

Status CommandFieldError(std::string_view field) {
  return Status(40532, "Entry field \"o." + std::string(field) + "\" should be string");
}

// Small documents of an event, laid out by hand in one exactly sized allocation (a
// Builder costs two): `fields` appends the fields, `size` is their exact byte count.
template <typename Fields>
bson::Doc SmallDoc(size_t size, Fields fields) {
  std::string bytes;
  bytes.reserve(4 + size + 1);
  uint32_t len = static_cast<uint32_t>(4 + size + 1);
  bytes.append(reinterpret_cast<const char*>(&len), 4);
  fields(&bytes);
  bytes.push_back('\0');
  return bson::Doc(std::move(bytes));
}

void AppendFieldHeader(bson::Type t, std::string_view key, std::string* out) {
  out->push_back(static_cast<char>(t));
  out->append(key);
  out->push_back('\0');
}

void AppendDocField(std::string_view key, bson::View doc, std::string* out) {
  AppendFieldHeader(bson::Type::kObject, key, out);
  out->append(doc.bytes());
}

void AppendStringField(std::string_view key, std::string_view value, std::string* out) {
  AppendFieldHeader(bson::Type::kString, key, out);
  uint32_t n = static_cast<uint32_t>(value.size() + 1);
  out->append(reinterpret_cast<const char*>(&n), 4);
  out->append(value);
  out->push_back('\0');
}

size_t FieldSize(std::string_view key, size_t value_size) { return 1 + key.size() + 1 + value_size; }

// {key: e's value}.
bson::Doc SingleFieldDoc(std::string_view key, const bson::Element& e) {
  return SmallDoc(FieldSize(key, e.value_size()), [&](std::string* out) {
    AppendFieldHeader(e.type(), key, out);
    out->append(reinterpret_cast<const char*>(e.value()), e.value_size());
  });
}

bson::Doc EventIdentifier(std::string_view op_type, const std::optional<bson::Doc>& document_key,
                          const std::optional<bson::Doc>& op_description) {
  constexpr std::string_view kOpType = "operationType";
  std::string_view second;
  const bson::Doc* doc = nullptr;
  if (document_key) {
    second = "documentKey";
    doc = &*document_key;
  } else if (op_description) {
    second = "operationDescription";
    doc = &*op_description;
  }
  size_t size = FieldSize(kOpType, 4 + op_type.size() + 1) + (doc ? FieldSize(second, doc->size()) : 0);
  return SmallDoc(size, [&](std::string* out) {
    AppendStringField(kOpType, op_type, out);
    if (doc) AppendDocField(second, *doc, out);
  });
}

// Fills the DDL fields of `ev` from a command entry; false for commands that make no event.
StatusWith<bool> TransformCommand(const OplogEntry& op, ChangeEvent* ev) {
  bson::Element cmd = op.o.first();
  std::string_view name = cmd.key();
  ev->db = std::string(op.db());
  auto target = [&](std::string_view field) -> Status {
    if (cmd.type() != bson::Type::kString) return CommandFieldError(field);
    ev->coll = std::string(cmd.Str());
    return Status::OK();
  };
  if (name == "drop") {
    ev->operation_type = "drop";
    BROOK_RETURN_IF_ERROR(target(name));
  } else if (name == "renameCollection") {
    ev->operation_type = "rename";
    bson::Element to = op.o["to"];
    if (cmd.type() != bson::Type::kString) return CommandFieldError(name);
    if (to.type() != bson::Type::kString) return CommandFieldError("to");
    auto [from_db, from_coll] = SplitNs(cmd.Str());
    auto [to_db, to_coll] = SplitNs(to.Str());
    ev->db = std::string(from_db);
    ev->coll = std::string(from_coll);
    ev->to = NamespaceDoc(to_db, to_coll);
    // Everything but renameCollection and stayTemp, with `to` as a namespace document in
    // its place.
    bson::Builder desc;
    for (const auto& e : op.o) {
      if (e.key() == "renameCollection" || e.key() == "stayTemp") continue;
      if (e.key() == "to") {
        desc.AppendDocument("to", *ev->to);
      } else {
        desc.Append(e);
      }
    }
    ev->operation_description = desc.Done();
  } else if (name == "dropDatabase") {
    ev->operation_type = "dropDatabase";
    ev->coll.clear();
  } else if (name == "create") {
    ev->operation_type = "create";
    BROOK_RETURN_IF_ERROR(target(name));
    ev->operation_description = DocWithout(op.o, {"create"});
  } else if (name == "createIndexes") {
    ev->operation_type = "createIndexes";
    BROOK_RETURN_IF_ERROR(target(name));
    ev->operation_description = IndexesDoc(DocWithout(op.o, {"createIndexes"}));
  } else if (name == "dropIndexes") {
    ev->operation_type = "dropIndexes";
    BROOK_RETURN_IF_ERROR(target(name));
    ev->operation_description = IndexesDoc(DocWithout(op.has_o2 ? op.o2 : bson::View(), {"dropIndexes"}));
  } else if (name == "collMod") {
    ev->operation_type = "modify";
    BROOK_RETURN_IF_ERROR(target(name));
    ev->operation_description = DocWithout(op.o, {"collMod"});
    bson::Builder before;
    if (op.has_o2) {
      bson::Element coll_opts = op.o2["collectionOptions_old"];
      bson::Element index_opts = op.o2["indexOptions_old"];
      if (!coll_opts.missing()) before.AppendAs("collectionOptions", coll_opts);
      if (!index_opts.missing()) before.AppendAs("indexOptions", index_opts);
    }
    ev->state_before_change = before.Done();
  } else {
    return false;
  }
  return true;
}

// A write to <db>.system.views as the view's DDL event (MongoDB's
// ChangeStreamViewDefinitionEventTransformation): insert -> create, replacement ->
// modify, delete -> drop; `o._id` names the view. The event has no collectionUUID (the
// token still carries system.views' UUID), and its operationDescription is the
// definition without `_id` ({viewOn, pipeline[, collation]}).
Status TransformViewDefinition(const OplogEntry& op, ChangeEvent* ev) {
  bson::Element id = op.o["_id"];
  if (id.type() != bson::Type::kString) return Status(40532, "Entry field \"o._id\" should be string");
  auto [db, coll] = SplitNs(id.Str());
  ev->db = std::string(db);
  ev->coll = std::string(coll);
  if (op.op == "i") {
    ev->operation_type = "create";
    ev->operation_description = DocWithout(op.o, {"_id"});
  } else if (op.op == "u") {
    ev->operation_type = "modify";
    ev->operation_description = DocWithout(op.o, {"_id"});
  } else {
    ev->operation_type = "drop";
  }
  return Status::OK();
}

bool IsViewDefinitionWrite(const ChangeStreamSpec& spec, const OplogEntry& op) {
  return spec.scope.kind != Scope::Kind::kCollection && op.coll() == kSystemViewsColl &&
         (op.op == "i" || op.op == "u" || op.op == "d");
}

}  // namespace

// ---- Stage 1 ----

bson::Doc OplogMatchStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "internalOplogMatch");
  b.AppendDocument("filter", predicate_->ToBson());
  b.Close();
  return b.Done();
}

// ---- Stage 2 ----

Status UnwindOperations(const OplogEntry& entry, std::vector<OplogEntry>* out) {
  bool is_apply_ops = entry.op == "c" && entry.coll() == "$cmd" && entry.o.first().key() == "applyOps";
  if (!is_apply_ops) {
    out->push_back(entry);
    return Status::OK();
  }
  bson::Element ops = entry.o.first();
  if (!ops.IsArray()) return Status(40532, "Entry field \"o.applyOps\" should be array");
  int32_t index = 0;
  for (const auto& op_elem : ops.Obj()) {
    if (!op_elem.IsObject()) return Status(40532, "Entry field \"o.applyOps\" should hold objects");
    auto inner = ParseOplogEntry(op_elem.Obj());
    if (!inner.ok()) return inner.status();
    OplogEntry op = inner.value();
    op.ts = entry.ts;
    op.wall_millis = entry.wall_millis;
    op.lsid = entry.lsid;
    op.txn_number = entry.txn_number;
    op.txn_op_index = index;
    op.apply_ops_index = static_cast<uint32_t>(index);
    ++index;
    out->push_back(op);
  }
  return Status::OK();
}

Status UnwindTransactionStage::Unwind(const OplogEntry& entry, std::vector<OplogEntry>* out) const {
  // Unwound straight into `out`, then the operations out of scope are dropped.
  size_t first = out->size();
  BROOK_RETURN_IF_ERROR(UnwindOperations(entry, out));
  auto kept = std::remove_if(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                             [&](const OplogEntry& op) { return !predicate_->MatchesOperation(op); });
  out->erase(kept, out->end());
  return Status::OK();
}

bson::Doc UnwindTransactionStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "internalUnwindTransaction");
  b.Close();
  return b.Done();
}

// ---- Stage 3 ----

StatusWith<std::optional<ChangeEvent>> TransformStage::Transform(const OplogEntry& op) const {
  ChangeEvent ev;
  ev.cluster_time = op.ts;
  ev.wall_millis = op.wall_millis;
  ev.uuid = op.uuid;
  if (IsViewDefinitionWrite(*spec_, op)) {
    BROOK_RETURN_IF_ERROR(TransformViewDefinition(op, &ev));
    ev.uuid.reset();
  } else if (op.op == "i" || op.op == "u" || op.op == "d") {
    ev.db = std::string(op.db());
    ev.coll = std::string(op.coll());
  }
  if (!ev.operation_type.empty()) {
    // Built above from a view definition write.
  } else if (op.op == "i") {
    ev.operation_type = "insert";
    ev.full_document = Image::Of(bson::Doc::CopyOf(op.o));
    if (op.has_o2) {
      ev.document_key = bson::Doc::CopyOf(op.o2);
    } else if (bson::Element id = op.o["_id"]; !id.missing()) {
      ev.document_key = SingleFieldDoc("_id", id);
    } else {
      bson::Builder key;
      key.AppendAs("_id", id);
      ev.document_key = key.Done();
    }
  } else if (op.op == "d") {
    ev.operation_type = "delete";
    ev.document_key = bson::Doc::CopyOf(op.o);
  } else if (op.op == "u") {
    bson::Element version = op.o["$v"];
    if (!version.missing() && version.IsNumber() && version.NumberInt64() == 2) {
      ev.operation_type = "update";
      bson::Element desc = op.o["updateDescription"];
      if (!desc.IsObject()) return Status(40532, "Entry field \"o.updateDescription\" should be object");
      bson::View d = desc.Obj();
      bson::Builder out;
      bson::Element updated = d["updatedFields"], removed = d["removedFields"], truncated = d["truncatedArrays"];
      if (updated.IsObject()) out.AppendDocument("updatedFields", updated.Obj());
      else out.AppendDocument("updatedFields", bson::View());
      if (removed.IsArray()) out.AppendArray("removedFields", removed.Obj());
      else out.AppendArray("removedFields", bson::View());
      if (truncated.IsArray()) out.AppendArray("truncatedArrays", truncated.Obj());
      else out.AppendArray("truncatedArrays", bson::View());
      if (spec_->show_expanded_events) {
        bson::Element paths = d["disambiguatedPaths"];
        out.AppendDocument("disambiguatedPaths", paths.IsObject() ? paths.Obj() : bson::View());
      }
      ev.update_description = out.Done();
      ev.raw_update = bson::Doc::CopyOf(d);
    } else if (!version.missing() || op.o["_id"].missing()) {
      return Status(6741200, "Unsupported or missing oplog version, $v: " +
                                 (version.missing() ? std::string("missing") : version.ToString()));
    } else {
      ev.operation_type = "replace";
      ev.full_document = Image::Of(bson::Doc::CopyOf(op.o));
    }
    if (!op.has_o2) return Status(40532, "Entry field \"o2\" should be object, found: missing");
    ev.document_key = bson::Doc::CopyOf(op.o2);
  } else if (op.op == "c") {
    auto made = TransformCommand(op, &ev);
    if (!made.ok()) return made.status();
    if (!made.value()) return std::optional<ChangeEvent>();
  } else {
    return std::optional<ChangeEvent>();  // no-ops ('n') make no event in Brook
  }

  // A transaction's operations carry its session (MongoDB puts them before the token).
  if (op.txn_op_index) {
    if (op.lsid.IsObject()) ev.lsid = bson::Doc::CopyOf(op.lsid.Obj());
    if (op.txn_number.IsNumber()) ev.txn_number = op.txn_number.NumberInt64();
  }
  if (op.uuid && (ev.operation_type == "update" || ev.operation_type == "replace" ||
                  ev.operation_type == "delete")) {
    ev.pre_image_id = PreImageId{*op.uuid, op.ts, op.apply_ops_index};
  }

  ResumeTokenData token;
  token.cluster_time = op.ts;
  token.txn_op_index = op.txn_op_index.value_or(0);
  token.uuid = op.uuid;
  if (ev.operation_type == "dropDatabase") token.uuid.reset();
  token.event_identifier = EventIdentifier(ev.operation_type, ev.document_key, ev.operation_description);
  ev.SetToken(std::move(token));
  return std::optional<ChangeEvent>(std::move(ev));
}

bson::Doc TransformStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "internalTransform");
  b.AppendDocument("options", spec_->raw);
  b.Close();
  return b.Done();
}

}  // namespace brook::changestream
