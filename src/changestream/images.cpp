// Stages 6 and 7: pre- and post-images, and applying an update description to a
// pre-image (how MongoDB computes point-in-time post-images for fullDocument:
// whenAvailable/required). Messages and the NoMatchingDocument code are MongoDB 7.0's.

#include <cstdlib>
#include <vector>

#include "bson/builder.h"
#include "changestream/host.h"
#include "changestream/stages.h"

namespace brook::changestream {
namespace {

constexpr ErrorCodes kNoMatchingDocument = ErrorCodes::kNoMatchingDocument;

// MongoDB's makePreImageNotFoundErrorMsg: what the event is, without its contents.
std::string ImageNotFoundContext(const ChangeEvent& ev) {
  bson::Builder b;
  b.AppendString("operationType", ev.operation_type);
  b.AppendDocument("ns", NamespaceDoc(ev.db, ev.coll));
  b.AppendTimestamp("clusterTime", ev.cluster_time);
  if (ev.txn_number) b.AppendInt64("txnNumber", *ev.txn_number);
  return DescribeForError(b.Done());
}

StatusWith<std::optional<bson::Doc>> ReadPreImage(ChangeStreamHost* host, const ChangeEvent& ev) {
  if (!ev.pre_image_id || host == nullptr) return std::optional<bson::Doc>();
  return host->ReadPreImage(ev.pre_image_id->uuid, ev.pre_image_id->ts, ev.pre_image_id->op_index);
}

// ---- A small mutable document, enough to apply dotted-path sets, unsets and truncations.

struct NamedNode;

struct Node {
  enum class Kind { kLeaf, kObject, kArray };
  Kind kind = Kind::kLeaf;
  bson::Doc leaf;  // {"": value}
  // A vector of an incomplete type is fine; a std::pair of one is not (clang rejects it).
  std::vector<NamedNode> fields;
  std::vector<Node> items;

  static Node Null();
  static Node FromElement(const bson::Element& e);
  static Node FromDoc(bson::View doc);
  Node* Field(std::string_view name);
  void AppendTo(bson::Builder* b, std::string_view key) const;
};

struct NamedNode {
  NamedNode(std::string name, Node node) : first(std::move(name)), second(std::move(node)) {}
  std::string first;
  Node second;
};

Node Node::Null() {
  Node n;
  bson::Builder b;
  b.AppendNull("");
  n.leaf = b.Done();
  return n;
}

Node Node::FromElement(const bson::Element& e) {
  Node n;
  if (e.type() == bson::Type::kObject) {
    n.kind = Kind::kObject;
    for (const auto& f : e.Obj()) n.fields.emplace_back(std::string(f.key()), FromElement(f));
  } else if (e.type() == bson::Type::kArray) {
    n.kind = Kind::kArray;
    for (const auto& f : e.Obj()) n.items.push_back(FromElement(f));
  } else {
    bson::Builder b;
    b.AppendAs("", e);
    n.leaf = b.Done();
  }
  return n;
}

Node Node::FromDoc(bson::View doc) {
  Node n;
  n.kind = Kind::kObject;
  for (const auto& f : doc) n.fields.emplace_back(std::string(f.key()), FromElement(f));
  return n;
}

Node* Node::Field(std::string_view name) {
  for (auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Node::AppendTo(bson::Builder* b, std::string_view key) const {
  std::string scratch;
  switch (kind) {
    case Kind::kLeaf:
      b->AppendAs(key, leaf.view().first());
      break;
    case Kind::kObject:
      b->OpenDocument(key);
      for (const auto& [k, v] : fields) v.AppendTo(b, k);
      b->Close();
      break;
    case Kind::kArray:
      b->OpenArray(key);
      for (size_t i = 0; i < items.size(); ++i) items[i].AppendTo(b, bson::ArrayKey(i, &scratch));
      b->Close();
      break;
  }
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::optional<size_t> ArrayIndex(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return static_cast<size_t>(std::strtoul(s.c_str(), nullptr, 10));
}

// The child named `part` of `n`, created (as an object) when `create` is set. In an
// array a numeric part is an index (MongoDB's update paths), padding with nulls.
Node* Child(Node* n, const std::string& part, bool create) {
  if (n->kind == Node::Kind::kObject) {
    if (Node* c = n->Field(part)) return c;
    if (!create) return nullptr;
    Node fresh;
    fresh.kind = Node::Kind::kObject;
    n->fields.emplace_back(part, std::move(fresh));
    return &n->fields.back().second;
  }
  if (n->kind == Node::Kind::kArray) {
    auto idx = ArrayIndex(part);
    if (!idx) return nullptr;
    if (*idx >= n->items.size()) {
      if (!create) return nullptr;
      while (n->items.size() <= *idx) n->items.push_back(Node::Null());
      n->items[*idx] = Node();
      n->items[*idx].kind = Node::Kind::kObject;
    }
    return &n->items[*idx];
  }
  return nullptr;
}

Node* Walk(Node* root, const std::vector<std::string>& parts, size_t count, bool create) {
  Node* n = root;
  for (size_t i = 0; i < count && n; ++i) n = Child(n, parts[i], create);
  return n;
}

void SetPath(Node* root, std::string_view path, const bson::Element& value) {
  auto parts = SplitPath(path);
  Node* parent = Walk(root, parts, parts.size() - 1, true);
  if (!parent) return;
  Node* slot = Child(parent, parts.back(), true);
  if (slot) *slot = Node::FromElement(value);
}

void RemovePath(Node* root, std::string_view path) {
  auto parts = SplitPath(path);
  Node* parent = Walk(root, parts, parts.size() - 1, false);
  if (!parent) return;
  if (parent->kind == Node::Kind::kObject) {
    auto& f = parent->fields;
    for (auto it = f.begin(); it != f.end(); ++it) {
      if (it->first == parts.back()) {
        f.erase(it);
        return;
      }
    }
  } else if (parent->kind == Node::Kind::kArray) {
    if (Node* slot = Child(parent, parts.back(), false)) *slot = Node::Null();
  }
}

void TruncatePath(Node* root, std::string_view path, int64_t new_size) {
  auto parts = SplitPath(path);
  Node* n = Walk(root, parts, parts.size(), false);
  if (n && n->kind == Node::Kind::kArray && new_size >= 0 && static_cast<size_t>(new_size) < n->items.size()) {
    n->items.resize(static_cast<size_t>(new_size));
  }
}

}  // namespace

StatusWith<bson::Doc> ApplyUpdateDescription(bson::View pre_image, bson::View desc) {
  Node root = Node::FromDoc(pre_image);
  bson::Element truncated = desc["truncatedArrays"];
  if (truncated.IsArray()) {
    for (const auto& t : truncated.Obj()) {
      if (!t.IsObject()) continue;
      bson::Element field = t.Obj()["field"], size = t.Obj()["newSize"];
      if (field.type() != bson::Type::kString || !size.IsNumber()) continue;
      TruncatePath(&root, field.Str(), size.NumberInt64());
    }
  }
  bson::Element removed = desc["removedFields"];
  if (removed.IsArray()) {
    for (const auto& r : removed.Obj()) {
      if (r.type() == bson::Type::kString) RemovePath(&root, r.Str());
    }
  }
  bson::Element updated = desc["updatedFields"];
  if (updated.IsObject()) {
    for (const auto& u : updated.Obj()) SetPath(&root, u.key(), u);
  }
  bson::Builder b;
  for (const auto& [k, v] : root.fields) v.AppendTo(&b, k);
  return b.Done();
}

// ---- Stage 6 ----

StageResult AddPreImageStage::Process(StreamItem& item) {
  ChangeEvent& ev = item.event;
  if (ev.operation_type != "update" && ev.operation_type != "replace" && ev.operation_type != "delete") {
    return StageResult::Pass();
  }
  auto pre = ReadPreImage(host_, ev);
  if (!pre.ok()) return StageResult::Error(pre.status());
  if (!pre.value() && mode_ == FullDocumentBeforeChangeMode::kRequired) {
    return StageResult::Error(Status(kNoMatchingDocument,
                                     "Change stream was configured to require a pre-image for all update, delete "
                                     "and replace events, but the pre-image was not found for event: " +
                                         ImageNotFoundContext(ev)));
  }
  ev.full_document_before_change = pre.value() ? Image::Of(std::move(*pre.value())) : Image::Null();
  return StageResult::Pass();
}

bson::Doc AddPreImageStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "internalAddPreImage");
  b.AppendString("fullDocumentBeforeChange", FullDocumentBeforeChangeModeName(mode_));
  b.Close();
  return b.Done();
}

// ---- Stage 7 ----

StatusWith<std::optional<bson::Doc>> AddPostImageStage::ComputeFromPreImage(const ChangeEvent& ev) {
  // A pre-image already looked up (and found missing) by stage 6 is not looked up again.
  std::optional<bson::Doc> pre;
  switch (ev.full_document_before_change.state) {
    case Image::State::kNull: return std::optional<bson::Doc>();
    case Image::State::kDoc: pre = ev.full_document_before_change.doc; break;
    case Image::State::kMissing: {
      auto read = ReadPreImage(host_, ev);
      if (!read.ok()) return read.status();
      pre = std::move(read).value();
      break;
    }
  }
  if (!pre || !ev.raw_update) return std::optional<bson::Doc>();
  auto post = ApplyUpdateDescription(*pre, *ev.raw_update);
  if (!post.ok()) return post.status();
  return std::optional<bson::Doc>(std::move(post).value());
}

StageResult AddPostImageStage::Process(StreamItem& item) {
  ChangeEvent& ev = item.event;
  if (ev.operation_type != "update") return StageResult::Pass();
  StatusWith<std::optional<bson::Doc>> post = std::optional<bson::Doc>();
  if (mode_ == FullDocumentMode::kUpdateLookup) {
    if (host_ != nullptr && ev.uuid && ev.document_key) {
      post = host_->LookupDocument(ev.db, ev.coll, *ev.uuid, *ev.document_key);
    }
  } else {
    post = ComputeFromPreImage(ev);
  }
  if (!post.ok()) return StageResult::Error(post.status());
  if (!post.value() && mode_ == FullDocumentMode::kRequired) {
    return StageResult::Error(Status(kNoMatchingDocument,
                                     "Change stream was configured to require a post-image for all update "
                                     "events, but the post-image was not found for event: " +
                                         ImageNotFoundContext(ev)));
  }
  ev.full_document = post.value() ? Image::Of(std::move(*post.value())) : Image::Null();
  return StageResult::Pass();
}

bson::Doc AddPostImageStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "internalAddPostImage");
  b.AppendString("fullDocument", FullDocumentModeName(mode_));
  b.Close();
  return b.Done();
}

}  // namespace brook::changestream
