#pragma once
// Read-only views: definitions, creation, drop, and resolution to a backing collection
// plus a pipeline.
//
// On-disk fact (MongoDB's layout): a view is a document of the collection
// <db>.system.views, {_id: "<db>.<view>", viewOn: "<coll>", pipeline: [...],
// collation?: {...}}. Creating a view inserts it (oplog {op: "i", ns: "<db>.system.views",
// o: <that document>}; creating system.views itself is a `c` create entry first),
// dropping deletes it (op "d"). That is exactly what MongoDB writes, and what its change
// streams turn into create/drop events (with operationDescription {viewOn, pipeline}
// under showExpandedEvents).
// Thread-safety: functions run on the calling command's thread; definitions are read
// from one snapshot per call.

#include <optional>
#include <string>
#include <vector>

#include "bson/document.h"
#include "catalog/namespace.h"
#include "util/status.h"

namespace brook::commands {

class OperationContext;

inline constexpr std::string_view kSystemViews = "system.views";
inline constexpr int kMaxViewDepth = 20;

struct ViewDefinition {
  catalog::Namespace ns;        // the view
  catalog::Namespace view_on;   // what it reads: a collection or another view
  bson::Doc pipeline;           // the stage array ({"0": ..., ...})
  std::optional<bson::Doc> collation;
};

// The view named `ns`, or nullopt when there is none (a collection, or nothing).
StatusWith<std::optional<ViewDefinition>> LookupView(OperationContext& op, const catalog::Namespace& ns);

// Every view of `db`, in _id order.
StatusWith<std::vector<ViewDefinition>> ListViews(OperationContext& op, std::string_view db);

// A view followed down to its backing collection: the stages to run over it (the
// innermost view's stages first). ViewDepthLimitExceeded (149) past kMaxViewDepth.
struct ResolvedView {
  catalog::Namespace backing;
  bson::Doc pipeline;  // stage array
};
StatusWith<ResolvedView> ResolveView(OperationContext& op, const ViewDefinition& view);

// create with viewOn/pipeline: validates (viewOn a string, pipeline an array of stages
// that parse and do not write), NamespaceExists (48) when a collection or view has the
// name, then inserts the definition.
Status CreateView(OperationContext& op, const catalog::Namespace& ns, bson::View create_body);

// collMod {viewOn, pipeline} on a view: replaces its definition (an update of its
// system.views document). NamespaceNotFound (26) when `ns` is not a view; both fields
// are required (InvalidOptions 72).
Status ModifyView(OperationContext& op, const catalog::Namespace& ns, bson::View collmod_body);

// Deletes the definition; false when `ns` was not a view.
StatusWith<bool> DropView(OperationContext& op, const catalog::Namespace& ns);

// Writes to a view fail: CommandNotSupportedOnView (166) "Namespace db.v is a view, not a
// collection".
Status CheckNotView(OperationContext& op, const catalog::Namespace& ns);

// Concatenates two stage arrays.
bson::Doc ConcatStages(bson::View first, bson::View second);

}  // namespace brook::commands
