#include "changestream/event.h"

#include <cstring>

#include "bson/builder.h"

namespace brook::changestream {
namespace {

Status BadField(std::string_view field, std::string_view expected, const bson::Element& e) {
  return Status(40532, "Entry field \"" + std::string(field) + "\" should be " + std::string(expected) +
                           ", found: " + std::string(e.missing() ? "missing" : bson::TypeName(e.type())));
}

void AppendUuid(bson::Builder* b, std::string_view key, const CollectionUuid& uuid) {
  b->AppendBinary(key, 4, std::string_view(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
}

void AppendImage(bson::Builder* b, std::string_view key, const Image& image) {
  if (image.state == Image::State::kDoc) b->AppendDocument(key, image.doc);
  if (image.state == Image::State::kNull) b->AppendNull(key);
}

// ns: NamespaceDoc(db, coll), laid out in a per-thread buffer (no allocation per event).
void AppendNamespace(bson::Builder* b, std::string_view db, std::string_view coll) {
  thread_local std::string doc;
  doc.assign(4, '\0');
  auto append_string = [](std::string_view key, std::string_view value) {
    doc.push_back(static_cast<char>(bson::Type::kString));
    doc.append(key);
    doc.push_back('\0');
    uint32_t n = static_cast<uint32_t>(value.size() + 1);
    doc.append(reinterpret_cast<const char*>(&n), 4);
    doc.append(value);
    doc.push_back('\0');
  };
  append_string("db", db);
  if (!coll.empty()) append_string("coll", coll);
  doc.push_back('\0');
  uint32_t len = static_cast<uint32_t>(doc.size());
  std::memcpy(doc.data(), &len, 4);
  b->AppendDocument("ns", bson::View(doc.data()));
}

}  // namespace

std::string_view OplogEntry::db() const {
  size_t dot = ns.find('.');
  return dot == std::string_view::npos ? ns : ns.substr(0, dot);
}

std::string_view OplogEntry::coll() const {
  size_t dot = ns.find('.');
  return dot == std::string_view::npos ? std::string_view() : ns.substr(dot + 1);
}

StatusWith<OplogEntry> ParseOplogEntry(bson::View raw) {
  OplogEntry e;
  for (const bson::Element& f : raw) {
    std::string_view k = f.key();
    if (k == "ts") {
      if (f.type() != bson::Type::kTimestamp) return BadField("ts", "timestamp", f);
      e.ts = f.Ts();
    } else if (k == "wall") {
      if (f.type() != bson::Type::kDate) return BadField("wall", "date", f);
      e.wall_millis = f.DateMillis();
    } else if (k == "op") {
      if (f.type() != bson::Type::kString) return BadField("op", "string", f);
      e.op = f.Str();
    } else if (k == "ns") {
      if (f.type() != bson::Type::kString) return BadField("ns", "string", f);
      e.ns = f.Str();
    } else if (k == "ui") {
      auto bin = f.type() == bson::Type::kBinary ? f.Bin() : bson::Element::Binary{0, {}};
      if (bin.subtype != 4 || bin.bytes.size() != 16) return BadField("ui", "a UUID", f);
      CollectionUuid uuid;
      std::memcpy(uuid.data(), bin.bytes.data(), 16);
      e.uuid = uuid;
    } else if (k == "o") {
      if (f.type() != bson::Type::kObject) return BadField("o", "object", f);
      e.o = f.Obj();
    } else if (k == "o2") {
      if (f.type() != bson::Type::kObject) return BadField("o2", "object", f);
      e.o2 = f.Obj();
      e.has_o2 = true;
    } else if (k == "lsid") {
      e.lsid = f;
    } else if (k == "txnNumber") {
      e.txn_number = f;
    }
  }
  if (e.op.empty()) return BadField("op", "string", bson::Element());
  return e;
}

bson::Doc NamespaceDoc(std::string_view db, std::string_view coll) {
  bson::Builder b;
  b.AppendString("db", db);
  if (!coll.empty()) b.AppendString("coll", coll);
  return b.Done();
}

bson::Doc ChangeEvent::ToBson(bool show_expanded) const {
  // Room for every part, so the buffer is allocated once.
  auto size_of = [](const std::optional<bson::Doc>& d) { return d ? d->size() : 0; };
  bson::Builder b(256 + 2 * token.keystring().size() + db.size() + coll.size() + full_document.doc.size() +
                  full_document_before_change.doc.size() + size_of(document_key) + size_of(update_description) +
                  size_of(operation_description) + size_of(to) + size_of(lsid) + size_of(state_before_change));
  if (is_invalidate) {
    token.AppendAsDocument(&b, "_id");
    b.AppendString("operationType", "invalidate");
    b.AppendTimestamp("clusterTime", cluster_time);
    b.AppendDate("wallTime", wall_millis);
    return b.Done();
  }
  if (to) b.AppendDocument("to", *to);
  if (txn_number) b.AppendInt64("txnNumber", *txn_number);
  if (lsid) b.AppendDocument("lsid", *lsid);
  token.AppendAsDocument(&b, "_id");
  b.AppendString("operationType", operation_type);
  b.AppendTimestamp("clusterTime", cluster_time);
  if (show_expanded && uuid) AppendUuid(&b, "collectionUUID", *uuid);
  b.AppendDate("wallTime", wall_millis);
  AppendImage(&b, "fullDocument", full_document);
  AppendNamespace(&b, db, coll);
  if (document_key) b.AppendDocument("documentKey", *document_key);
  if (show_expanded && operation_description) b.AppendDocument("operationDescription", *operation_description);
  if (update_description) b.AppendDocument("updateDescription", *update_description);
  if (state_before_change) b.AppendDocument("stateBeforeChange", *state_before_change);
  AppendImage(&b, "fullDocumentBeforeChange", full_document_before_change);
  return b.Done();
}

std::string DescribeForError(bson::View doc) { return doc.ToString(); }

}  // namespace brook::changestream
