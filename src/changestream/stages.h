#pragma once
// The change-stream stages, one small class each, in MongoDB's order (STYLE.md 5):
//
//   1 OplogMatchStage            the scan predicate (scope), on raw oplog entries
//   2 UnwindTransactionStage     a transaction's applyOps -> its operations
//   3 TransformStage             oplog operation -> ChangeEvent, building the resume token
//   4 CheckInvalidateStage       drop/rename/dropDatabase -> the event, then an invalidate
//   5 CheckResumabilityStage     history check; swallows events before the resume point
//   6 AddPreImageStage           fullDocumentBeforeChange from the preimages family
//   7 AddPostImageStage          fullDocument: updateLookup, or pre-image + update
//   8 EnsureResumeTokenPresentStage  the resumed-from event must be seen (else 280)
//   9 ClassicEventFilterStage    without showExpandedEvents: only classic event types
//  10 UserStagesStage            serializes the event; the user's stages; _id must survive
//  11 SplitLargeEventStage / EventSizeCheckStage   fragments, or 10334 above 16 MiB
//
// BuildEventStages() (stages.cpp) assembles 4..11 and says why each sits where it does.
// Stages 1-3 depend only on the plan's scope, so a shared tailer can run them once per
// entry for many cursors (docs/change-streams.md); 4..11 hold per-cursor runtime state.
// A stage returns an explicit StageResult (events, skip, or error); it never throws.
// Thread-safety: a stage object belongs to one cursor, used by one thread at a time.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "changestream/event.h"
#include "changestream/plan.h"
#include "util/status.h"

namespace brook::changestream {

class ChangeStreamHost;

// ---- Stages 1-3: oplog entries -------------------------------------------------------

class OplogMatchStage {
 public:
  explicit OplogMatchStage(const OplogPredicate* predicate) : predicate_(predicate) {}
  bool Matches(const OplogEntry& e) const { return predicate_->MatchesEntry(e); }
  bson::Doc Explain() const;

 private:
  const OplogPredicate* predicate_;
};

// Extension point for transactions: an applyOps command entry becomes its operations,
// each with txnOpIndex (its position in the transaction), the transaction's lsid and
// txnNumber, and the applyOps ts/index under which its pre-image is stored. Other
// entries pass through unchanged. Multi-entry and prepared transactions (prevOpTime
// chains, commitTransaction) are a later issue: they need ReadTransactionOperations on
// the host.
class UnwindTransactionStage {
 public:
  explicit UnwindTransactionStage(const OplogPredicate* predicate) : predicate_(predicate) {}
  // Appends the operations of `entry` that are in scope to `out`.
  Status Unwind(const OplogEntry& entry, std::vector<OplogEntry>* out) const;
  bson::Doc Explain() const;

 private:
  const OplogPredicate* predicate_;
};

// Every operation of `entry` regardless of scope: an applyOps entry's operations (with
// txnOpIndex, session and applyOps position set), any other entry itself. The shared
// tailer unwinds with it once for all streams.
Status UnwindOperations(const OplogEntry& entry, std::vector<OplogEntry>* out);

class TransformStage {
 public:
  explicit TransformStage(const ChangeStreamSpec* spec) : spec_(spec) {}
  // nullopt for operations that produce no event (no-ops, unknown commands).
  StatusWith<std::optional<ChangeEvent>> Transform(const OplogEntry& op) const;
  bson::Doc Explain() const;

 private:
  const ChangeStreamSpec* spec_;
};

// ---- Stages 4-11: events -------------------------------------------------------------

// An event between stages: structured until stage 10 serializes it into `doc`.
struct StreamItem {
  ChangeEvent event;
  std::optional<bson::Doc> doc;  // set from stage 10 on
  // Set by stage 8 when resuming from a fragment of this (split) event: the split stage
  // drops fragments 0..resume_fragment, which the client already has.
  std::optional<int32_t> resume_fragment;
  const ResumeToken& token() const { return event.token; }
};

// What a stage did with the item it was handed. The item is changed in place and passed
// on (kPass) without being moved or copied: the common case, one per stage per event,
// costs no allocation. kMany replaces it with zero or more items (an invalidate after
// its command, the user's stages' outputs, fragments).
struct StageResult {
  enum class Kind { kPass, kSkip, kMany, kError };
  Kind kind = Kind::kSkip;
  std::vector<StreamItem> items;  // kMany only
  Status status;

  static StageResult Pass() {
    StageResult r;
    r.kind = Kind::kPass;
    return r;
  }
  static StageResult Many(std::vector<StreamItem> items) {
    StageResult r;
    r.kind = items.empty() ? Kind::kSkip : Kind::kMany;
    r.items = std::move(items);
    return r;
  }
  static StageResult Skip() { return StageResult(); }
  static StageResult Error(Status s) {
    StageResult r;
    r.kind = Kind::kError;
    r.status = std::move(s);
    return r;
  }
};

class EventStage {
 public:
  virtual ~EventStage() = default;
  virtual std::string_view name() const = 0;
  // Works on `item` in place; see StageResult.
  virtual StageResult Process(StreamItem& item) = 0;
  // {$changeStream: {stage: name, ...}} by default.
  virtual bson::Doc Explain() const;
};

// Whether an event token sorts before, at, or after the client's resume token
// (MongoDB's DocumentSourceChangeStreamCheckResumability::compareAgainstClientResumeToken).
enum class ResumeStatus { kCheckNextDoc, kFoundToken, kSurpassedToken, kNeedsSplit };
ResumeStatus CompareAgainstClientToken(const ResumeTokenData& event, const ResumeTokenData& client);

class CheckInvalidateStage : public EventStage {
 public:
  CheckInvalidateStage(Scope::Kind scope, std::optional<ResumeTokenData> start_after_invalidate)
      : scope_(scope), start_after_invalidate_(std::move(start_after_invalidate)) {}
  std::string_view name() const override { return "internalCheckInvalidate"; }
  StageResult Process(StreamItem& item) override;

 private:
  bool IsInvalidating(std::string_view operation_type) const;
  Scope::Kind scope_;
  std::optional<ResumeTokenData> start_after_invalidate_;
};

class CheckResumabilityStage : public EventStage {
 public:
  explicit CheckResumabilityStage(const StartPoint* start) : start_(start) {}
  std::string_view name() const override { return "internalCheckResumability"; }
  // ChangeStreamHistoryLost (286) when the oplog no longer reaches back to the start point.
  Status CheckHistory(bson::Timestamp oldest_oplog_ts) const;
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  const StartPoint* start_;
  bool surpassed_ = false;
};

class AddPreImageStage : public EventStage {
 public:
  AddPreImageStage(FullDocumentBeforeChangeMode mode, ChangeStreamHost* host) : mode_(mode), host_(host) {}
  std::string_view name() const override { return "internalAddPreImage"; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  FullDocumentBeforeChangeMode mode_;
  ChangeStreamHost* host_;
};

class AddPostImageStage : public EventStage {
 public:
  AddPostImageStage(FullDocumentMode mode, ChangeStreamHost* host) : mode_(mode), host_(host) {}
  std::string_view name() const override { return "internalAddPostImage"; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  StatusWith<std::optional<bson::Doc>> ComputeFromPreImage(const ChangeEvent& ev);
  FullDocumentMode mode_;
  ChangeStreamHost* host_;
};

class EnsureResumeTokenPresentStage : public EventStage {
 public:
  explicit EnsureResumeTokenPresentStage(ResumeTokenData token) : token_(std::move(token)) {}
  std::string_view name() const override { return "internalEnsureResumeTokenPresent"; }
  // Once true, every later event passes through unexamined (the cursor may then let the
  // tailer skip events its user filter rejects: none of them can matter here any more).
  bool surpassed() const { return surpassed_; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  ResumeTokenData token_;
  bool seen_ = false;
  bool surpassed_ = false;
};

class ClassicEventFilterStage : public EventStage {
 public:
  std::string_view name() const override { return "$match"; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;
};

class UserStagesStage : public EventStage {
 public:
  UserStagesStage(std::shared_ptr<const query::Pipeline> pipeline, bool show_expanded)
      : pipeline_(std::move(pipeline)), show_expanded_(show_expanded) {}
  std::string_view name() const override { return "userStages"; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  std::shared_ptr<const query::Pipeline> pipeline_;
  bool show_expanded_;
};

class SplitLargeEventStage : public EventStage {
 public:
  SplitLargeEventStage(size_t max_event_bytes, size_t max_fragment_bytes)
      : max_event_bytes_(max_event_bytes), max_fragment_bytes_(max_fragment_bytes) {}
  std::string_view name() const override { return "$changeStreamSplitLargeEvent"; }
  StageResult Process(StreamItem& item) override;
  bson::Doc Explain() const override;

 private:
  size_t max_event_bytes_;
  size_t max_fragment_bytes_;
};

class EventSizeCheckStage : public EventStage {
 public:
  explicit EventSizeCheckStage(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}
  std::string_view name() const override { return "internalEventSizeCheck"; }
  StageResult Process(StreamItem& item) override;

 private:
  size_t max_event_bytes_;
};

// Stages 4..11 for one cursor, in order. `host` may be null for explain.
std::vector<std::unique_ptr<EventStage>> BuildEventStages(const ChangeStreamPlan& plan,
                                                          ChangeStreamHost* host);

// Runs `item` through `stages` from `first` on; appends what comes out to `out`.
Status RunEventStages(const std::vector<std::unique_ptr<EventStage>>& stages, size_t first,
                      StreamItem item, std::vector<StreamItem>* out);

// Applies an oplog update description ({updatedFields, removedFields, truncatedArrays})
// to `pre_image`, as MongoDB applies the update to compute a point-in-time post-image.
StatusWith<bson::Doc> ApplyUpdateDescription(bson::View pre_image, bson::View update_description);

}  // namespace brook::changestream
