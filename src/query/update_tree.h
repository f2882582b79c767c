#pragma once
// Internal to updates: the update tree and the modifier interface.
//
// Owns: the tree an operator update parses into (one node per path component, as
// MongoDB's UpdateObjectNode/UpdateArrayNode: children applied in field-name order with
// numeric names in numeric order, a positional `$` child, `$[]`/`$[<id>]` children),
// conflict detection between paths, and the generic apply step every modifier shares:
// finding the target, creating missing path components (padding arrays with nulls),
// refusing non-viable paths, guarding _id, and logging the change.
// Thread-safety: trees are immutable after parsing.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "query/matcher.h"
#include "query/update.h"
#include "query/update_doc.h"

namespace brook::query::update_internal {

using ArrayFilterMap = std::map<std::string, std::unique_ptr<Matcher>, std::less<>>;

struct ApplyCtx {
  MutableDoc* doc = nullptr;
  DescriptionRecorder* log = nullptr;
  const bson::StringComparator* collator = nullptr;
  const ArrayFilterMap* array_filters = nullptr;
  bool has_match = false;
  std::string match_key;
  bool is_insert = false;
  int64_t now_millis = 0;
  bson::Timestamp now_ts;
  bson::View old_doc;
  // "{_id: 1}" or "{no id}" as MongoDB's messages show the document.
  std::string DocIdForMessage() const;
};

// Where a modifier applies. Either `node` exists (and `parent` holds it), or the path
// stops existing after `anchor` and `to_create` lists the missing components.
struct Target {
  MutableNode* node = nullptr;
  MutableNode* parent = nullptr;
  MutableNode* anchor = nullptr;
  RuntimePath taken;
  std::vector<std::string> to_create;

  bool exists() const { return node != nullptr; }
  std::string FullPath() const;  // taken + to_create, dotted
};

class Modifier {
 public:
  enum class Outcome { kNoOp, kUpdated, kLogged };
  virtual ~Modifier() = default;
  virtual bool InsertOnly() const { return false; }
  virtual bool CreatesPath() const { return true; }
  // False for $pop/$pull/$pullAll: a missing path must still be creatable.
  virtual bool AllowsNonViablePath() const { return true; }
  // Changes the existing value. kUpdated: the generic step logs the node's new value at
  // its path; kLogged: the modifier reported its changes itself.
  virtual StatusWith<Outcome> UpdateExisting(Target& t, ApplyCtx& ctx) const = 0;
  // The value for a path that does not exist yet (only when CreatesPath()).
  virtual StatusWith<bson::Element> NewValue(ApplyCtx& ctx) const;
  // The whole apply step; $rename overrides it.
  virtual Status Apply(Target& t, ApplyCtx& ctx) const;
};

// The generic apply step (see the header comment).
Status ApplyModifier(const Modifier& m, Target& t, ApplyCtx& ctx);
// Creates t.to_create under t.anchor holding `value`; logs the creation.
Status CreatePath(Target& t, const bson::Element& value, ApplyCtx& ctx);
// PathNotViable when the missing part of the path could never be created.
Status CheckViability(const Target& t);
// 66 ImmutableField when `path` (dotted, first component) touches _id.
Status CheckNotId(const std::string& first_component, const std::string& dotted, const ApplyCtx& ctx);

struct UpdateNode {
  enum class Kind { kObject, kArray, kLeaf };
  explicit UpdateNode(Kind k) : kind(k) {}
  Kind kind;
  std::map<std::string, std::unique_ptr<UpdateNode>, FieldNameLess> children;
  std::unique_ptr<UpdateNode> positional;  // "$" (objects only)
  std::unique_ptr<Modifier> leaf;
};

// Adds `leaf` at dotted `path`. Checks the path (empty components, `$` placement,
// array filter identifiers) and conflicts with paths already in the tree.
Status AddToTree(UpdateNode* root, const std::string& path, std::unique_ptr<Modifier> leaf,
                 const ArrayFilterMap& filters, std::set<std::string>* used_identifiers,
                 bool* uses_positional);

Status ApplyTree(const UpdateNode& root, ApplyCtx& ctx);

// Builds the modifier for one `{<op>: {<path>: <arg>}}` field. `path` is the field name.
StatusWith<std::unique_ptr<Modifier>> MakeModifier(std::string_view op, const std::string& path,
                                                   const bson::Element& arg,
                                                   const UpdateOptions& opts);
bool IsKnownModifier(std::string_view op);
// The do-nothing leaf $rename puts at its source path (for conflict detection).
std::unique_ptr<Modifier> MakePlaceholder();

class PipelineUpdate;  // update_pipeline.h

// Everything UpdateDriver::Parse produced.
struct ParsedUpdate {
  UpdateNode root{UpdateNode::Kind::kObject};
  ArrayFilterMap array_filters;
  bson::Doc replacement;
  std::unique_ptr<PipelineUpdate> pipeline;
  ~ParsedUpdate();
};

}  // namespace brook::query::update_internal
