// Stages 4, 5, 8, 9, 10 and 11, and the builder that puts 4..11 in MongoDB's order.
// (Pre- and post-images, stages 6 and 7, are in images.cpp.)

#include "changestream/stages.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "bson/builder.h"
#include "bson/compare.h"
#include "util/error_codes.h"

namespace brook::changestream {
namespace {

bson::Doc SimpleExplain(std::string_view stage) {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", stage);
  b.Close();
  return b.Done();
}

bson::Doc ExplainWithToken(std::string_view stage, const ResumeTokenData& token) {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", stage);
  b.AppendDocument("resumeToken", ResumeToken::FromData(token).ToDocument());
  b.Close();
  return b.Done();
}

int CompareOptionalUuid(const std::optional<CollectionUuid>& a, const std::optional<CollectionUuid>& b) {
  if (a.has_value() != b.has_value()) return a.has_value() ? 1 : -1;
  if (!a) return 0;
  return *a < *b ? -1 : (*a == *b ? 0 : 1);
}

int CompareIdentifiers(const std::optional<bson::Doc>& a, const std::optional<bson::Doc>& b) {
  if (a.has_value() != b.has_value()) return a.has_value() ? 1 : -1;
  if (!a) return 0;
  return bson::CompareDocs(*a, *b);
}

}  // namespace

bson::Doc EventStage::Explain() const { return SimpleExplain(name()); }

ResumeStatus CompareAgainstClientToken(const ResumeTokenData& ev, const ResumeTokenData& client) {
  using RS = ResumeStatus;
  if (ev.cluster_time != client.cluster_time) {
    return ev.cluster_time > client.cluster_time ? RS::kSurpassedToken : RS::kCheckNextDoc;
  }
  if (ev.type != client.type) return ev.type > client.type ? RS::kSurpassedToken : RS::kCheckNextDoc;
  if (ev.txn_op_index != client.txn_op_index) {
    return ev.txn_op_index > client.txn_op_index ? RS::kSurpassedToken : RS::kCheckNextDoc;
  }
  if (ev.from_invalidate != client.from_invalidate) {
    return ev.from_invalidate ? RS::kSurpassedToken : RS::kCheckNextDoc;
  }
  if (int c = CompareOptionalUuid(ev.uuid, client.uuid); c != 0) {
    return c > 0 ? RS::kSurpassedToken : RS::kCheckNextDoc;
  }
  int c = CompareIdentifiers(ev.event_identifier, client.event_identifier);
  if (c == 0) {
    if (client.fragment_num && !ev.fragment_num) return RS::kNeedsSplit;
    if (ev.fragment_num == client.fragment_num) return RS::kFoundToken;
    return ev.fragment_num > client.fragment_num ? RS::kSurpassedToken : RS::kCheckNextDoc;
  }
  return c > 0 ? RS::kSurpassedToken : RS::kCheckNextDoc;
}

// ---- Stage 4: check invalidate ----

bool CheckInvalidateStage::IsInvalidating(std::string_view op) const {
  switch (scope_) {
    case Scope::Kind::kCollection: return op == "drop" || op == "rename" || op == "dropDatabase";
    case Scope::Kind::kDatabase: return op == "dropDatabase";
    case Scope::Kind::kCluster: return false;
  }
  return false;
}

StageResult CheckInvalidateStage::Process(StreamItem& item) {
  // Only the first event can be the one a startAfter-invalidate stream started after.
  std::optional<ResumeTokenData> start_after = std::move(start_after_invalidate_);
  start_after_invalidate_.reset();
  if (item.event.is_invalidate || !IsInvalidating(item.event.operation_type)) {
    return StageResult::Pass();
  }
  ResumeTokenData data = item.event.token_data;
  data.from_invalidate = true;
  StreamItem invalidate;
  invalidate.event.is_invalidate = true;
  invalidate.event.operation_type = "invalidate";
  invalidate.event.cluster_time = item.event.cluster_time;
  invalidate.event.wall_millis = item.event.wall_millis;
  invalidate.event.SetToken(data);
  if (start_after) {
    // Started after this very invalidate: hand on only the invalidate (stages 5 and 8
    // swallow it as the resume point) and keep the stream alive. Another invalidating
    // command passes through without an invalidate, as in MongoDB.
    if (!(ResumeToken::FromData(*start_after) == invalidate.event.token)) {
      return StageResult::Pass();
    }
    item = std::move(invalidate);
    return StageResult::Pass();
  }
  invalidate.event.ends_stream = true;
  std::vector<StreamItem> out;
  out.push_back(std::move(item));
  out.push_back(std::move(invalidate));
  return StageResult::Many(std::move(out));
}

// ---- Stage 5: check resumability ----

Status CheckResumabilityStage::CheckHistory(bson::Timestamp oldest_oplog_ts) const {
  if (start_->kind == StartPoint::Kind::kNow || oldest_oplog_ts.IsNull()) return Status::OK();
  if (oldest_oplog_ts > start_->at) {
    return Status(ErrorCodes::kChangeStreamHistoryLost,
                  "Resume of change stream was not possible, as the resume point may no longer be in "
                  "the oplog.");
  }
  return Status::OK();
}

StageResult CheckResumabilityStage::Process(StreamItem& item) {
  if (surpassed_ || !start_->token) return StageResult::Pass();
  switch (CompareAgainstClientToken(item.event.token_data, *start_->token)) {
    case ResumeStatus::kCheckNextDoc:
      return StageResult::Skip();
    case ResumeStatus::kSurpassedToken:
      surpassed_ = true;
      break;
    case ResumeStatus::kFoundToken:
    case ResumeStatus::kNeedsSplit:
      break;
  }
  return StageResult::Pass();
}

bson::Doc CheckResumabilityStage::Explain() const {
  if (!start_->token) return SimpleExplain(name());
  return ExplainWithToken(name(), *start_->token);
}

// ---- Stage 8: ensure resume token present ----

StageResult EnsureResumeTokenPresentStage::Process(StreamItem& item) {
  if (surpassed_) return StageResult::Pass();
  switch (CompareAgainstClientToken(item.event.token_data, token_)) {
    case ResumeStatus::kCheckNextDoc:
      return StageResult::Skip();
    case ResumeStatus::kFoundToken:
      seen_ = true;
      return StageResult::Skip();  // the client already has this event
    case ResumeStatus::kNeedsSplit:
      seen_ = true;
      item.resume_fragment = token_.fragment_num;
      return StageResult::Pass();
    case ResumeStatus::kSurpassedToken:
      break;
  }
  if (!seen_) {
    return StageResult::Error(
        Status(ErrorCodes::kChangeStreamFatalError,
               "cannot resume stream; the resume token was not found. " +
                   DescribeForError(item.event.token.ToDocument()))
            .WithLabel(labels::kNonResumableChangeStreamError));
  }
  surpassed_ = true;
  return StageResult::Pass();
}

bson::Doc EnsureResumeTokenPresentStage::Explain() const { return ExplainWithToken(name(), token_); }

// ---- Stage 9: classic event types ----

namespace {
constexpr std::string_view kClassicTypes[] = {"insert", "update", "replace", "delete",
                                              "drop",   "rename", "dropDatabase", "invalidate"};
}

StageResult ClassicEventFilterStage::Process(StreamItem& item) {
  for (auto t : kClassicTypes) {
    if (item.event.operation_type == t) return StageResult::Pass();
  }
  return StageResult::Skip();
}

bson::Doc ClassicEventFilterStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$match");
  b.OpenDocument("operationType");
  b.OpenArray("$in");
  std::string scratch;
  size_t i = 0;
  for (auto t : kClassicTypes) b.AppendString(bson::ArrayKey(i++, &scratch), t);
  b.Close();
  b.Close();
  b.Close();
  return b.Done();
}

// ---- Stage 10: the user's stages ----

StageResult UserStagesStage::Process(StreamItem& item) {
  bson::Doc doc = item.event.ToBson(show_expanded_);
  if (!pipeline_) {
    item.doc = std::move(doc);
    return StageResult::Pass();
  }
  std::vector<bson::Doc> input;
  input.push_back(std::move(doc));
  auto run = pipeline_->Run(query::MakeVectorSource(std::move(input)));
  if (!run.ok()) return StageResult::Error(run.status());
  auto outputs = query::DrainSource(run.value().get());
  if (!outputs.ok()) return StageResult::Error(outputs.status());
  bson::Doc token_doc = item.event.token.ToDocument();
  std::vector<StreamItem> out;
  for (auto& d : outputs.value()) {
    // MongoDB's PlanExecutorPipeline::_validateChangeStreamsResumeToken: the token must
    // come out of the user's stages unchanged, or the stream could not be resumed.
    bson::Element id = d["_id"];
    if (!id.IsObject() || bson::CompareDocs(id.Obj(), token_doc) != 0) {
      bson::Builder expected;
      expected.AppendDocument("_id", token_doc);
      bson::Builder found;
      if (!id.missing()) found.AppendAs("_id", id);
      return StageResult::Error(
          Status(ErrorCodes::kChangeStreamFatalError,
                 "Encountered an event whose _id field, which contains the resume token, was modified "
                 "by the pipeline. Modifying the _id field of an event makes it impossible to resume "
                 "the stream from that point. Only transformations that retain the unmodified _id "
                 "field are allowed. Expected: " +
                     expected.Done().ToString() + " but found: " + found.Done().ToString())
              .WithLabel(labels::kNonResumableChangeStreamError));
    }
    StreamItem copy;
    copy.event.SetToken(item.event.token_data);
    copy.event.operation_type = item.event.operation_type;
    copy.event.is_invalidate = item.event.is_invalidate;
    copy.event.ends_stream = item.event.ends_stream;
    copy.resume_fragment = item.resume_fragment;
    copy.doc = std::move(d);
    out.push_back(std::move(copy));
  }
  if (out.empty() && item.event.ends_stream) {
    // The user's $match dropped the invalidate: the stream still ends there, silently.
    StreamItem marker;
    marker.event.SetToken(item.event.token_data);
    marker.event.is_invalidate = true;
    marker.event.ends_stream = true;
    out.push_back(std::move(marker));
  }
  return StageResult::Many(std::move(out));
}

bson::Doc UserStagesStage::Explain() const {
  bson::Builder b;
  b.OpenDocument("$changeStream");
  b.AppendString("stage", "userStages");
  b.AppendBool("showExpandedEvents", show_expanded_);
  if (pipeline_) b.AppendDocument("pipeline", pipeline_->Explain());
  b.Close();
  return b.Done();
}

// ---- Stage 11: split large events, or refuse them ----

namespace {

std::string TooLargeMessage(const bson::Doc& doc, size_t limit) {
  char hex[32];
  std::snprintf(hex, sizeof(hex), "0x%zX", doc.size());
  bson::Element first = doc.view().first();
  return "BSONObj size: " + std::to_string(doc.size()) + " (" + hex + ") is invalid. Size must be between 0 and " +
         std::to_string(limit) + "(16MB) First element: " + std::string(first.key()) + ": " + first.ToString();
}

bson::Doc FragmentHeader(const ResumeToken& token, int32_t fragment, int32_t of) {
  bson::Builder b;
  b.AppendDocument("_id", token.ToDocument());
  b.OpenDocument("splitEvent");
  b.AppendInt32("fragment", fragment);
  b.AppendInt32("of", of);
  b.Close();
  return b.Done();
}

}  // namespace

StageResult SplitLargeEventStage::Process(StreamItem& item) {
  if (!item.doc) return StageResult::Pass();  // a silent end of stream
  const bson::Doc& doc = *item.doc;
  if (doc.size() <= max_event_bytes_) {
    if (item.resume_fragment) {
      return StageResult::Error(Status(ErrorCodes::kChangeStreamFatalError,
                                       "Attempted to resume from a split event fragment, but the event in "
                                       "the resumed stream was not large enough to be split")
                                    .WithLabel(labels::kNonResumableChangeStreamError));
    }
    return StageResult::Pass();
  }
  // Greedy, deterministic: fields by (size, name), smallest first, as MongoDB does, so
  // a resumed stream cuts the same fragments.
  std::vector<bson::Element> fields;
  for (const auto& e : doc) {
    if (e.key() != "_id") fields.push_back(e);
  }
  if (fields.empty()) {
    return StageResult::Error(Status(7182502, "Cannot split an empty event or an event containing solely '_id' field"));
  }
  std::sort(fields.begin(), fields.end(), [](const bson::Element& a, const bson::Element& b) {
    if (a.raw_size() != b.raw_size()) return a.raw_size() < b.raw_size();
    return a.key() < b.key();
  });
  size_t max_fragment = max_fragment_bytes_ - item.event.token.ToDocument().size();
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) into fields
  for (size_t i = 0; i < fields.size();) {
    ResumeTokenData data = item.event.token_data;
    data.fragment_num = static_cast<int32_t>(groups.size());
    size_t size = FragmentHeader(ResumeToken::FromData(data), static_cast<int32_t>(groups.size() + 1), 0).size();
    size_t begin = i;
    do {
      size += fields[i].raw_size();
      ++i;
    } while (i < fields.size() && size + fields[i].raw_size() <= max_fragment);
    if (size > max_fragment) {
      return StageResult::Error(Status(7182500, "Splitting change event failed: fragment size " +
                                                    std::to_string(size) +
                                                    " is greater than maximum allowed fragment size " +
                                                    std::to_string(max_fragment)));
    }
    groups.emplace_back(begin, i);
  }
  size_t skip = item.resume_fragment ? static_cast<size_t>(*item.resume_fragment) + 1 : 0;
  if (skip >= groups.size() && item.resume_fragment) {
    return StageResult::Error(Status(ErrorCodes::kChangeStreamFatalError,
                                     "Attempted to resume from a split event, but the resumed stream produced "
                                     "a different split. Ensure that the pipeline used to resume is the same "
                                     "as the original")
                                  .WithLabel(labels::kNonResumableChangeStreamError));
  }
  std::vector<StreamItem> out;
  for (size_t g = skip; g < groups.size(); ++g) {
    ResumeTokenData data = item.event.token_data;
    data.fragment_num = static_cast<int32_t>(g);
    StreamItem frag;
    frag.event.SetToken(data);
    frag.event.operation_type = item.event.operation_type;
    frag.event.is_invalidate = item.event.is_invalidate;
    frag.event.ends_stream = item.event.ends_stream && g + 1 == groups.size();
    bson::Builder b;
    b.AppendAll(FragmentHeader(frag.event.token, static_cast<int32_t>(g + 1), static_cast<int32_t>(groups.size())));
    for (size_t i = groups[g].first; i < groups[g].second; ++i) b.Append(fields[i]);
    frag.doc = b.Done();
    out.push_back(std::move(frag));
  }
  return StageResult::Many(std::move(out));
}

bson::Doc SplitLargeEventStage::Explain() const {
  bson::Builder b;
  b.AppendDocument("$changeStreamSplitLargeEvent", bson::View());
  return b.Done();
}

StageResult EventSizeCheckStage::Process(StreamItem& item) {
  if (item.doc && item.doc->size() > max_event_bytes_) {
    return StageResult::Error(Status(ErrorCodes::kBSONObjectTooLarge, TooLargeMessage(*item.doc, max_event_bytes_)));
  }
  return StageResult::Pass();
}

// ---- The builder ----

std::vector<std::unique_ptr<EventStage>> BuildEventStages(const ChangeStreamPlan& plan, ChangeStreamHost* host) {
  const ChangeStreamSpec& spec = plan.spec;
  std::vector<std::unique_ptr<EventStage>> stages;
  // 4. Right after the transform, so the invalidate gets the command's token (with
  //    fromInvalidate) and the resume stages after it can compare both: resuming from
  //    the drop event must still deliver the invalidate that follows it.
  std::optional<ResumeTokenData> start_after_invalidate;
  if (plan.start.kind == StartPoint::Kind::kStartAfter && plan.start.token && plan.start.token->from_invalidate) {
    start_after_invalidate = plan.start.token;
  }
  stages.push_back(std::make_unique<CheckInvalidateStage>(spec.scope.kind, std::move(start_after_invalidate)));
  // 5. Always: the cursor asks it to check the oplog still reaches the start point, and
  //    it swallows everything before the resume point before any costly image lookup.
  stages.push_back(std::make_unique<CheckResumabilityStage>(&plan.start));
  // 6. Before the post-image (which may reuse the pre-image) and before the user's $match
  //    in MongoDB's order; lookups happen only for update/replace/delete.
  if (spec.full_document_before_change != FullDocumentBeforeChangeMode::kOff) {
    stages.push_back(std::make_unique<AddPreImageStage>(spec.full_document_before_change, host));
  }
  // 7. After the pre-image, from which whenAvailable/required post-images are computed.
  if (spec.full_document != FullDocumentMode::kDefault) {
    stages.push_back(std::make_unique<AddPostImageStage>(spec.full_document, host));
  }
  // 8. Resuming from an event: that event must be seen before any later one, checked on
  //    the stream's own events before the user's filter can hide the resume point.
  if (plan.start.from_event_token()) {
    stages.push_back(std::make_unique<EnsureResumeTokenPresentStage>(*plan.start.token));
  }
  // 9. Without showExpandedEvents only classic events reach the user.
  if (!spec.show_expanded_events) stages.push_back(std::make_unique<ClassicEventFilterStage>());
  // 10. The event becomes BSON once, here; then the user's stages, whose output must
  //     keep the token as _id.
  stages.push_back(std::make_unique<UserStagesStage>(plan.user_pipeline, spec.show_expanded_events));
  // 11. Last, on what the user will receive: split (if asked) or refuse oversized events.
  if (plan.split_large_events) {
    stages.push_back(std::make_unique<SplitLargeEventStage>(plan.max_event_bytes, plan.max_fragment_bytes));
  } else {
    stages.push_back(std::make_unique<EventSizeCheckStage>(plan.max_event_bytes));
  }
  return stages;
}

Status RunEventStages(const std::vector<std::unique_ptr<EventStage>>& stages, size_t first, StreamItem item,
                      std::vector<StreamItem>* out) {
  for (size_t i = first; i < stages.size(); ++i) {
    StageResult r = stages[i]->Process(item);
    switch (r.kind) {
      case StageResult::Kind::kPass:
        continue;
      case StageResult::Kind::kSkip:
        return Status::OK();
      case StageResult::Kind::kError:
        return r.status;
      case StageResult::Kind::kMany:
        for (auto& next : r.items) BROOK_RETURN_IF_ERROR(RunEventStages(stages, i + 1, std::move(next), out));
        return Status::OK();
    }
  }
  out->push_back(std::move(item));
  return Status::OK();
}

}  // namespace brook::changestream
