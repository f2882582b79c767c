#include "commands/oplog_view.h"

#include "storage/engine.h"

namespace brook::commands {
namespace {

// The earliest timestamp a top-level {ts: {$gt|$gte: T}} or {ts: T} allows.
bson::Timestamp StartOf(bson::View filter) {
  auto ts = filter["ts"];
  if (ts.type() == bson::Type::kTimestamp) return ts.Ts();
  if (ts.IsObject()) {
    bson::Timestamp start;
    for (const auto& op : ts.Obj()) {
      if ((op.key() == "$gt" || op.key() == "$gte" || op.key() == "$eq") &&
          op.type() == bson::Type::kTimestamp && start < op.Ts()) {
        start = op.Ts();
      }
    }
    return start;
  }
  return bson::Timestamp{};
}

}  // namespace

OplogScan::~OplogScan() = default;

StatusWith<std::unique_ptr<OplogScan>> OplogScan::Open(storage::Engine* engine, bson::View filter,
                                                       bool forward) {
  std::unique_ptr<OplogScan> scan(new OplogScan());
  query::MatcherOptions opts;
  auto m = query::Matcher::Parse(filter, opts);
  if (!m.ok()) return m.status();
  scan->matcher_ = std::move(m).value();
  scan->forward_ = forward;
  scan->it_ = engine->NewOplogIterator(forward ? StartOf(filter) : bson::Timestamp{}, false);
  return scan;
}

StatusWith<bool> OplogScan::Next(bson::Doc* out, query::MatchDetails* details) {
  while (true) {
    if (!started_) {
      started_ = true;
      if (forward_) {
        it_->SeekToFirst();
      } else {
        it_->SeekToLast();
      }
    } else if (it_->Valid()) {
      if (forward_) {
        it_->Next();
      } else {
        it_->Prev();
      }
    }
    if (!it_->Valid()) {
      BROOK_RETURN_IF_ERROR(it_->status());
      return false;
    }
    ++examined_;
    bson::Doc doc{std::string(it_->value())};
    if (details) details->Reset();
    if (!matcher_->Matches(doc, details)) continue;
    *out = std::move(doc);
    return true;
  }
}

}  // namespace brook::commands
