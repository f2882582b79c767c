#include "query/update_pipeline.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "bson/builder.h"

namespace brook::query::update_internal {

namespace {

bool AllowedInUpdate(std::string_view stage) {
  return stage == "$addFields" || stage == "$set" || stage == "$project" || stage == "$unset" ||
         stage == "$replaceRoot" || stage == "$replaceWith";
}

bool KnownStage(std::string_view stage) {
  static const char* const kStages[] = {
      "$match", "$group", "$sort", "$limit", "$skip", "$lookup", "$unwind", "$facet", "$out", "$merge",
      "$count", "$sample", "$bucket", "$bucketAuto", "$graphLookup", "$redact", "$densify", "$fill",
      "$setWindowFields", "$unionWith", "$sortByCount", "$geoNear", "$changeStream", "$documents",
      "$indexStats", "$collStats", "$currentOp", "$listSessions", "$planCacheStats", "$search"};
  for (const char* s : kStages) {
    if (stage == s) return true;
  }
  return false;
}

}  // namespace

PipelineUpdate::~PipelineUpdate() = default;

StatusWith<std::unique_ptr<PipelineUpdate>> PipelineUpdate::Parse(bson::View pipeline, const UpdateOptions& opts) {
  for (const auto& stage : pipeline) {
    if (stage.type() != bson::Type::kObject || stage.Obj().CountFields() != 1) {
      return Status(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    std::string_view name = stage.Obj().first().key();
    if (AllowedInUpdate(name)) continue;
    if (KnownStage(name)) {
      return Status(ErrorCodes::kInvalidOptions, std::string(name) + " is not allowed to be used within an update");
    }
    return Status(40324, "Unrecognized pipeline stage name: '" + std::string(name) + "'");
  }
  PipelineOptions po;
  po.collator = opts.collator;
  po.let_vars = bson::Doc::CopyOf(opts.let_variables);
  auto p = Pipeline::Parse(pipeline, po);
  if (!p.ok()) return p.status();
  std::unique_ptr<PipelineUpdate> u(new PipelineUpdate());
  u->pipeline_ = std::move(p.value());
  return u;
}

StatusWith<bson::Doc> PipelineUpdate::Run(bson::View doc) const {
  std::vector<bson::Doc> input;
  input.push_back(bson::Doc::CopyOf(doc));
  auto src = pipeline_->Run(MakeVectorSource(std::move(input)));
  if (!src.ok()) return src.status();
  auto out = DrainSource(src.value().get());
  if (!out.ok()) return out.status();
  if (out.value().size() != 1) {
    return Status(ErrorCodes::kInternalError, "an update pipeline must produce exactly one document");
  }
  return std::move(out.value()[0]);
}

namespace {

bool SameValue(const bson::Element& a, const bson::Element& b) {
  return a.type() == b.type() && a.value_size() == b.value_size() &&
         std::memcmp(a.value(), b.value(), a.value_size()) == 0;
}

// MongoDB's diff tree (doc_diff::computeDocDiff): documents keep deletes, updates,
// inserts and sub-diffs; arrays keep a resize and per-index updates or sub-diffs. Each
// node tracks the approximate size of its serialised form the way MongoDB does, since
// that size decides between a sub-diff and a whole-value update, and between a delta
// and a replacement.
struct DiffNode {
  bool is_array = false;
  size_t size = 0;
  std::vector<std::string> deletes;
  std::vector<std::pair<std::string, bson::Element>> updates;
  std::vector<std::pair<std::string, bson::Element>> inserts;
  std::vector<std::pair<std::string, std::unique_ptr<DiffNode>>> subdiffs;
  // Arrays: index -> update or sub-diff, in index order.
  std::vector<std::pair<size_t, bson::Element>> array_updates;
  std::vector<std::pair<size_t, std::unique_ptr<DiffNode>>> array_subdiffs;
  std::optional<size_t> resize;

  static std::unique_ptr<DiffNode> Document(size_t padding) {
    auto n = std::make_unique<DiffNode>();
    n->size = 5 + padding;
    return n;
  }
  static std::unique_ptr<DiffNode> Array() {
    auto n = std::make_unique<DiffNode>();
    n->is_array = true;
    n->size = 9;
    return n;
  }
  void AddDelete(std::string_view name) {
    size += name.size() + 2 + 1;
    if (deletes.empty()) size += 8;
    deletes.emplace_back(name);
  }
  void AddUpdate(std::string_view name, const bson::Element& v) {
    size += name.size() + 2 + v.value_size();
    if (updates.empty()) size += 8;
    updates.emplace_back(std::string(name), v);
  }
  void AddInsert(std::string_view name, const bson::Element& v) {
    size += name.size() + 2 + v.value_size();
    if (inserts.empty()) size += 8;
    inserts.emplace_back(std::string(name), v);
  }
  void AddSubDiff(std::string_view name, std::unique_ptr<DiffNode> sub) {
    size += name.size() + 2 + sub->size + 1;
    subdiffs.emplace_back(std::string(name), std::move(sub));
  }
  static size_t IndexWidth(size_t idx) { return 1 + std::to_string(idx).size(); }
  void AddArrayUpdate(size_t idx, const bson::Element& v) {
    size += IndexWidth(idx) + 2 + v.value_size();
    array_updates.emplace_back(idx, v);
  }
  void AddArraySubDiff(size_t idx, std::unique_ptr<DiffNode> sub) {
    size += IndexWidth(idx) + 2 + sub->size;
    array_subdiffs.emplace_back(idx, std::move(sub));
  }
  void SetResize(size_t n) {
    resize = n;
    size += 1 + 4 + 2;
  }
};

std::unique_ptr<DiffNode> DiffDoc(bson::View pre, bson::View post, size_t padding);
std::unique_ptr<DiffNode> DiffArr(bson::View pre, bson::View post);

std::unique_ptr<DiffNode> SubDiff(const bson::Element& pre, const bson::Element& post) {
  return pre.type() == bson::Type::kObject ? DiffDoc(pre.Obj(), post.Obj(), 0) : DiffArr(pre.Obj(), post.Obj());
}

bool BothContainersOfOneType(const bson::Element& a, const bson::Element& b) {
  return a.type() == b.type() && (a.type() == bson::Type::kObject || a.type() == bson::Type::kArray);
}

std::unique_ptr<DiffNode> DiffArr(bson::View pre, bson::View post) {
  auto node = DiffNode::Array();
  size_t post_size = post.size();
  auto pi = pre.begin(), qi = post.begin();
  size_t idx = 0;
  for (; pi != pre.end() && qi != post.end(); ++pi, ++qi, ++idx) {
    if (post_size < node->size) return nullptr;
    if (SameValue(*pi, *qi)) continue;
    if (BothContainersOfOneType(*pi, *qi)) {
      if (auto sub = SubDiff(*pi, *qi)) {
        node->AddArraySubDiff(idx, std::move(sub));
      } else {
        node->AddArrayUpdate(idx, *qi);
      }
    } else {
      node->AddArrayUpdate(idx, *qi);
    }
  }
  for (; qi != post.end(); ++qi, ++idx) node->AddArrayUpdate(idx, *qi);
  if (pi != pre.end()) node->SetResize(idx);
  return post_size > node->size ? std::move(node) : nullptr;
}

std::unique_ptr<DiffNode> DiffDoc(bson::View pre, bson::View post, size_t padding) {
  auto node = DiffNode::Document(padding);
  size_t post_size = post.size();
  std::vector<std::string_view> deletes;
  auto pi = pre.begin(), qi = post.begin();
  while (pi != pre.end() && qi != post.end()) {
    if (post_size < node->size) return nullptr;
    if (pi->raw_size() == qi->raw_size() && std::memcmp(pi->raw(), qi->raw(), pi->raw_size()) == 0) {
      ++pi;
      ++qi;
      continue;
    }
    if (pi->key() == qi->key()) {
      if (BothContainersOfOneType(*pi, *qi)) {
        if (auto sub = SubDiff(*pi, *qi)) {
          node->AddSubDiff(pi->key(), std::move(sub));
        } else {
          node->AddUpdate(pi->key(), *qi);
        }
      } else {
        node->AddUpdate(pi->key(), *qi);
      }
      ++pi;
      ++qi;
    } else {
      // Deleted, or moved (then it is inserted again below).
      deletes.push_back(pi->key());
      ++pi;
    }
  }
  for (; pi != pre.end(); ++pi) node->AddDelete(pi->key());
  for (; qi != post.end(); ++qi) {
    node->AddInsert(qi->key(), *qi);
    deletes.erase(std::remove(deletes.begin(), deletes.end(), qi->key()), deletes.end());
  }
  std::sort(deletes.begin(), deletes.end());
  deletes.erase(std::unique(deletes.begin(), deletes.end()), deletes.end());
  for (auto d : deletes) node->AddDelete(d);
  return post_size > node->size ? std::move(node) : nullptr;
}

// The exact size of the serialised $v:2 diff.
void Serialize(const DiffNode& n, bson::Builder* b) {
  if (n.is_array) {
    b->AppendBool("a", true);
    if (n.resize) b->AppendInt32("l", static_cast<int32_t>(*n.resize));
    size_t u = 0, s = 0;
    while (u < n.array_updates.size() || s < n.array_subdiffs.size()) {
      bool take_update = s == n.array_subdiffs.size() ||
                         (u < n.array_updates.size() && n.array_updates[u].first < n.array_subdiffs[s].first);
      if (take_update) {
        b->AppendAs("u" + std::to_string(n.array_updates[u].first), n.array_updates[u].second);
        ++u;
      } else {
        b->OpenDocument("s" + std::to_string(n.array_subdiffs[s].first));
        Serialize(*n.array_subdiffs[s].second, b);
        b->Close();
        ++s;
      }
    }
    return;
  }
  if (!n.deletes.empty()) {
    b->OpenDocument("d");
    for (const auto& d : n.deletes) b->AppendBool(d, false);
    b->Close();
  }
  if (!n.updates.empty()) {
    b->OpenDocument("u");
    for (const auto& [k, v] : n.updates) b->AppendAs(k, v);
    b->Close();
  }
  if (!n.inserts.empty()) {
    b->OpenDocument("i");
    for (const auto& [k, v] : n.inserts) b->AppendAs(k, v);
    b->Close();
  }
  for (const auto& [k, sub] : n.subdiffs) {
    b->OpenDocument("s" + k);
    Serialize(*sub, b);
    b->Close();
  }
}

// What a change stream makes of the diff (change_stream_document_diff_parser).
void Describe(const DiffNode& n, RuntimePath* path, DescriptionRecorder* rec) {
  if (n.is_array) {
    if (n.resize) rec->Truncated(*path, static_cast<int32_t>(*n.resize));
    size_t u = 0, s = 0;
    while (u < n.array_updates.size() || s < n.array_subdiffs.size()) {
      bool take_update = s == n.array_subdiffs.size() ||
                         (u < n.array_updates.size() && n.array_updates[u].first < n.array_subdiffs[s].first);
      if (take_update) {
        path->push_back(PathComp{std::to_string(n.array_updates[u].first), true});
        rec->Updated(*path, n.array_updates[u].second);
        ++u;
      } else {
        path->push_back(PathComp{std::to_string(n.array_subdiffs[s].first), true});
        Describe(*n.array_subdiffs[s].second, path, rec);
        ++s;
      }
      path->pop_back();
    }
    return;
  }
  for (const auto& d : n.deletes) {
    path->push_back(PathComp{d, false});
    rec->Removed(*path);
    path->pop_back();
  }
  for (const auto* section : {&n.updates, &n.inserts}) {
    for (const auto& [k, v] : *section) {
      path->push_back(PathComp{k, false});
      rec->Updated(*path, v);
      path->pop_back();
    }
  }
  for (const auto& [k, sub] : n.subdiffs) {
    path->push_back(PathComp{k, false});
    Describe(*sub, path, rec);
    path->pop_back();
  }
}

// The padding MongoDB adds for the {$v: 2, diff: ...} wrapper of a delta entry.
constexpr size_t kDeltaEntryPadding = 15;

}  // namespace

bool DiffDocuments(bson::View before, bson::View after, DescriptionRecorder* rec) {
  auto root = DiffDoc(before, after, kDeltaEntryPadding);
  if (!root) return false;
  bson::Builder b;
  Serialize(*root, &b);
  if (b.Done().size() >= after.size()) return false;
  RuntimePath path;
  Describe(*root, &path, rec);
  return true;
}

}  // namespace brook::query::update_internal
