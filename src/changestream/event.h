#pragma once
// Oplog entries as the change-stream stages read them, and change events as they travel
// between the stages.
//
// Owns: the decoded view of one oplog entry (OplogEntry) and the structured change event
// (ChangeEvent) that stages 3 to 9 fill in before it is serialized once, in MongoDB 7.0's
// field order, for the user's stages.
// On-wire fact (drivers and tests compare events field by field; never reorder):
//   [to] [txnNumber lsid] _id operationType clusterTime [collectionUUID] wallTime
//   [fullDocument] ns [documentKey] [operationDescription] [updateDescription]
//   [stateBeforeChange] [fullDocumentBeforeChange]
// (`to` and the transaction fields come first because MongoDB adds them before the
// token; fullDocument keeps its slot after wallTime even when the post-image stage fills
// it later; fullDocumentBeforeChange is appended last by the pre-image stage.)
// An invalidate is {_id, operationType, clusterTime, wallTime}.
// Thread-safety: plain values. An OplogEntry points into bytes its creator keeps alive.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bson/document.h"
#include "bson/types.h"
#include "changestream/resume_token.h"
#include "util/status.h"

namespace brook::changestream {

// Where a database keeps its view definitions; writes there become view DDL events.
inline constexpr std::string_view kSystemViewsColl = "system.views";

// One oplog entry ({ts, t, v, wall, op, ns, ui, o, o2, lsid, txnNumber, stmtId}), or one
// operation unwound from a transaction's applyOps.
struct OplogEntry {
  bson::Timestamp ts;
  int64_t wall_millis = 0;
  std::string_view op;  // "i", "u", "d", "c", "n"
  std::string_view ns;  // "db.coll", or "db.$cmd" for commands
  std::optional<CollectionUuid> uuid;
  bson::View o;
  bool has_o2 = false;
  bson::View o2;
  bson::Element lsid;        // missing when absent
  bson::Element txn_number;  // missing when absent
  // Set by the unwind stage for an operation inside a transaction: its position among the
  // transaction's operations (the token's txnOpIndex) and within its applyOps entry.
  std::optional<int32_t> txn_op_index;
  uint32_t apply_ops_index = 0;

  std::string_view db() const;    // the part of ns before the first '.'
  std::string_view coll() const;  // the part after it ("$cmd" for commands)
};

// Reads the fields the stages need. Errors (40532, 4053200) name the bad field; they mean
// a corrupt oplog, never a client mistake.
StatusWith<OplogEntry> ParseOplogEntry(bson::View raw);

// Where a pre-image is stored (storage's preimages family).
struct PreImageId {
  CollectionUuid uuid{};
  bson::Timestamp ts;
  uint32_t op_index = 0;
};

// A document-valued event field that a stage may set to a document or to null.
struct Image {
  enum class State { kMissing, kNull, kDoc };
  State state = State::kMissing;
  bson::Doc doc;

  static Image Null() { return Image{State::kNull, bson::Doc()}; }
  static Image Of(bson::Doc d) { return Image{State::kDoc, std::move(d)}; }
  bool missing() const { return state == State::kMissing; }
};

struct ChangeEvent {
  ResumeTokenData token_data;
  ResumeToken token;  // always FromData(token_data), once SetToken ran

  std::string operation_type;
  bson::Timestamp cluster_time;
  int64_t wall_millis = 0;
  std::optional<CollectionUuid> uuid;
  std::string db;
  std::string coll;  // empty for dropDatabase
  std::optional<bson::Doc> to;  // rename target {db, coll}
  std::optional<bson::Doc> lsid;
  std::optional<int64_t> txn_number;
  Image full_document;
  std::optional<bson::Doc> document_key;
  std::optional<bson::Doc> operation_description;
  std::optional<bson::Doc> update_description;  // {updatedFields, removedFields, truncatedArrays[, disambiguatedPaths]}
  std::optional<bson::Doc> state_before_change;
  Image full_document_before_change;

  // Hidden fields (MongoDB's preImageId / rawOplogUpdateSpec): never serialized.
  std::optional<PreImageId> pre_image_id;  // update, replace, delete of a collection with a UUID
  std::optional<bson::Doc> raw_update;     // the oplog `o` of an update, to compute a post-image

  bool is_invalidate = false;
  // The stream is dead after this event (an invalidate that was not swallowed by startAfter).
  bool ends_stream = false;

  void SetToken(const ResumeTokenData& data) {
    token_data = data;
    token = ResumeToken::FromData(data);
  }
  void SetToken(ResumeTokenData&& data) {
    token = ResumeToken::FromData(data);
    token_data = std::move(data);
  }
  // The event in MongoDB's field order. `show_expanded` adds collectionUUID,
  // operationDescription and (in updateDescription, already built) disambiguatedPaths.
  bson::Doc ToBson(bool show_expanded) const;
};

// {db, coll} (coll omitted when empty).
bson::Doc NamespaceDoc(std::string_view db, std::string_view coll);

// The MongoDB shell-like rendering of a document used inside error messages.
std::string DescribeForError(bson::View doc);

}  // namespace brook::changestream
