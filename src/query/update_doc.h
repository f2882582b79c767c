#pragma once
// Internal to updates: a mutable document tree and the update-description recorder.
//
// Owns: MutableDoc, a tree that starts as references into the old document's bytes and
// expands only the subtrees an update touches (a node is a plain value until someone
// descends into it), plus an arena that owns every value written by the update; and
// DescriptionRecorder, which collects updatedFields/removedFields/truncatedArrays as
// the operators report their changes.
// Thread-safety: one MutableDoc per Apply(); not shared.

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/document.h"
#include "query/update.h"

namespace brook::query::update_internal {

struct MutableNode;

struct MutableChild {
  std::string key;  // unused for array elements (their key is the position)
  std::unique_ptr<MutableNode> node;
};

struct MutableNode {
  enum class Kind { kValue, kObject, kArray };
  Kind kind = Kind::kValue;
  bson::Element value;                 // kValue: the value (keyed anything)
  std::vector<MutableChild> children;  // kObject / kArray

  bson::Type type() const {
    if (kind == Kind::kObject) return bson::Type::kObject;
    if (kind == Kind::kArray) return bson::Type::kArray;
    return value.type();
  }
  bool IsObject() const { return type() == bson::Type::kObject; }
  bool IsArray() const { return type() == bson::Type::kArray; }
  // Turns an object/array value into expanded children; no-op when already expanded.
  void Expand();
  size_t ArraySize();  // expands
  // Child by field name (objects) or position (arrays); nullptr when absent. Expands.
  MutableNode* FindField(std::string_view name);
  MutableNode* At(size_t index);
  void SetValue(const bson::Element& v) {
    kind = Kind::kValue;
    value = v;
    children.clear();
  }
};

class MutableDoc {
 public:
  explicit MutableDoc(bson::View doc);
  MutableNode* root() { return &root_; }

  // Copies `v` into the arena; the returned Element (keyed "") lives as long as this.
  bson::Element Own(const bson::Element& v);
  bson::Element OwnDoc(bson::Doc doc_holding_one_field);
  // The node's current value as one element (serialises expanded nodes into the arena).
  bson::Element ValueOf(const MutableNode& n);
  std::unique_ptr<MutableNode> MakeValueNode(const bson::Element& v);

  static void Write(const MutableNode& n, std::string_view key, bson::Builder* b);
  bson::Doc ToDoc() const;

 private:
  bson::Doc original_;
  MutableNode root_;
  std::deque<bson::Doc> arena_;
};

struct PathComp {
  std::string name;
  bool is_index = false;
};
using RuntimePath = std::vector<PathComp>;
std::string Dotted(const RuntimePath& p);

class DescriptionRecorder {
 public:
  void Updated(const RuntimePath& path, const bson::Element& value);
  void Removed(const RuntimePath& path);
  void Truncated(const RuntimePath& path, int32_t new_size);
  bool empty() const { return updated_.empty() && removed_.empty() && truncated_.empty(); }
  UpdateDescription Finish() const;

 private:
  void NoteAmbiguity(const RuntimePath& path);
  std::vector<std::pair<std::string, bson::Doc>> updated_;  // value as {"": v}
  std::vector<std::string> removed_;
  std::vector<std::pair<std::string, int32_t>> truncated_;
  std::vector<std::pair<std::string, RuntimePath>> ambiguous_;
};

// The MongoDB comparator for update-tree children: numeric names in numeric order,
// others bytewise (pathsupport::cmpPathsAndArrayIndexes).
struct FieldNameLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

}  // namespace brook::query::update_internal
