#include "watch/initial_sync.h"

#include <algorithm>

namespace brook::watch {
namespace {

constexpr size_t kCopyBatch = 1000;

Status FromMongoc(const bson_error_t& err, const std::string& what) {
  return Status(static_cast<int32_t>(err.code ? err.code : 1), what + ": " + err.message);
}

std::pair<std::string, std::string> SplitNs(const std::string& ns) {
  auto dot = ns.find('.');
  return {ns.substr(0, dot), dot == std::string::npos ? "" : ns.substr(dot + 1)};
}

}  // namespace

BsonDoc SnapshotEvent(const bson_t* doc, const std::string& db, const std::string& coll, ClusterTime t) {
  bson_iter_t id;
  BsonDoc ev = BsonDoc::New();
  bson_t* b = ev.mut();
  bool has_id = bson_iter_init_find(&id, doc, "_id");
  bson_t sub, inner;
  BSON_APPEND_DOCUMENT_BEGIN(b, "_id", &sub);
  BSON_APPEND_DOCUMENT_BEGIN(&sub, "brookSnapshot", &inner);
  BSON_APPEND_TIMESTAMP(&inner, "t", t.t, t.i);
  BSON_APPEND_UTF8(&inner, "ns", (db + "." + coll).c_str());
  if (has_id) bson_append_iter(&inner, "id", -1, &id);
  bson_append_document_end(&sub, &inner);
  bson_append_document_end(b, &sub);
  BSON_APPEND_UTF8(b, "operationType", "insert");
  BSON_APPEND_TIMESTAMP(b, "clusterTime", t.t, t.i);
  BSON_APPEND_DOCUMENT_BEGIN(b, "ns", &sub);
  BSON_APPEND_UTF8(&sub, "db", db.c_str());
  BSON_APPEND_UTF8(&sub, "coll", coll.c_str());
  bson_append_document_end(b, &sub);
  BSON_APPEND_DOCUMENT_BEGIN(b, "documentKey", &sub);
  if (has_id) bson_append_iter(&sub, "_id", -1, &id);
  bson_append_document_end(b, &sub);
  BSON_APPEND_DOCUMENT(b, "fullDocument", doc);
  BSON_APPEND_BOOL(b, "brookSnapshot", true);
  return ev;
}

MongoInitialSync::MongoInitialSync(const WatchOptions& options, mongoc_client_t* client, StatusReporter* reporter,
                                   const std::atomic<bool>* stop)
    : options_(options), client_(client), reporter_(reporter), stop_(stop) {}

MongoInitialSync::~MongoInitialSync() { mongoc_client_destroy(client_); }

StatusWith<ClusterTime> MongoInitialSync::SnapshotTime() {
  std::string db = options_.db.empty() ? "admin" : options_.db;
  std::string coll = options_.coll.empty() ? "brook_watch_snapshot_probe" : options_.coll;
  bson_t cmd = BSON_INITIALIZER, rc, reply;
  BSON_APPEND_UTF8(&cmd, "find", coll.c_str());
  BSON_APPEND_INT32(&cmd, "limit", 1);
  BSON_APPEND_BOOL(&cmd, "singleBatch", true);
  BSON_APPEND_DOCUMENT_BEGIN(&cmd, "readConcern", &rc);
  BSON_APPEND_UTF8(&rc, "level", "majority");
  bson_append_document_end(&cmd, &rc);
  bson_error_t err;
  bool ok = mongoc_client_read_command_with_opts(client_, db.c_str(), &cmd, nullptr, nullptr, &reply, &err);
  std::optional<ClusterTime> t;
  if (ok) {
    t = GetTimestamp(&reply, "operationTime");
    if (!t) t = GetTimestamp(&reply, "$clusterTime.clusterTime");
  }
  bson_destroy(&cmd);
  bson_destroy(&reply);
  if (!ok) return FromMongoc(err, "cannot read the snapshot time");
  if (!t) return Status(ErrorCodes::kIllegalOperation, "the server's reply has no operationTime (not a replica set?)");
  return *t;
}

StatusWith<std::vector<std::string>> MongoInitialSync::Namespaces() {
  std::vector<std::string> out;
  if (options_.scope == Scope::kCollection) {
    out.push_back(options_.db + "." + options_.coll);
    return out;
  }
  std::vector<std::string> dbs;
  bson_error_t err;
  if (options_.scope == Scope::kDatabase) {
    dbs.push_back(options_.db);
  } else {
    char** names = mongoc_client_get_database_names_with_opts(client_, nullptr, &err);
    if (!names) return FromMongoc(err, "cannot list databases");
    for (char** n = names; *n; ++n) {
      std::string d = *n;
      if (d != "admin" && d != "config" && d != "local") dbs.push_back(d);
    }
    bson_strfreev(names);
  }
  for (const std::string& d : dbs) {
    mongoc_database_t* db = mongoc_client_get_database(client_, d.c_str());
    bson_t opts = BSON_INITIALIZER, filter;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "filter", &filter);
    BSON_APPEND_UTF8(&filter, "type", "collection");
    bson_append_document_end(&opts, &filter);
    char** names = mongoc_database_get_collection_names_with_opts(db, &opts, &err);
    bson_destroy(&opts);
    mongoc_database_destroy(db);
    if (!names) return FromMongoc(err, "cannot list the collections of " + d);
    for (char** n = names; *n; ++n) {
      std::string c = *n;
      if (c.rfind("system.", 0) == 0) continue;
      if (options_.checkpoint.kind == CheckpointSpec::Kind::kMongo && d == options_.checkpoint.db &&
          c == options_.checkpoint.coll)
        continue;
      out.push_back(d + "." + c);
    }
    bson_strfreev(names);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status MongoInitialSync::CopyNamespace(const std::string& ns, Checkpoint* cp, Delivery* delivery, bool* stopped) {
  auto [db, coll] = SplitNs(ns);
  mongoc_collection_t* c = mongoc_client_get_collection(client_, db.c_str(), coll.c_str());
  auto& is = *cp->initial_sync;
  for (int attempt = 0;; ++attempt) {
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub;
    if (!is.last_id.IsEmpty()) {
      bson_iter_t it;
      bson_iter_init_find(&it, is.last_id.get(), "_id");
      BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
      bson_append_iter(&sub, "$gt", -1, &it);
      bson_append_document_end(&filter, &sub);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sub);
    BSON_APPEND_INT32(&sub, "_id", 1);
    bson_append_document_end(&opts, &sub);
    BSON_APPEND_INT32(&opts, "batchSize", static_cast<int32_t>(kCopyBatch));
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "readConcern", &sub);
    if (is.consistent) {
      BSON_APPEND_UTF8(&sub, "level", "snapshot");
      BSON_APPEND_TIMESTAMP(&sub, "atClusterTime", is.at_cluster_time.t, is.at_cluster_time.i);
    } else {
      BSON_APPEND_UTF8(&sub, "level", "majority");
    }
    bson_append_document_end(&opts, &sub);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, &filter, &opts, nullptr);
    bson_destroy(&filter);
    bson_destroy(&opts);
    std::vector<std::string> lines;
    BsonDoc last_id;
    const bson_t* doc;
    Status result;
    bool copied_any = false;
    auto flush = [&]() -> Status {
      if (lines.empty()) return Status::OK();
      is.last_id = std::move(last_id);
      last_id = BsonDoc();
      Status s = delivery->DeliverAndSave(lines, *cp);
      reporter_->OnEvents(static_cast<int64_t>(lines.size()), is.at_cluster_time.t);
      reporter_->MaybeReport(StatusReporter::Clock::now());
      lines.clear();
      return s;
    };
    while (mongoc_cursor_next(cursor, &doc)) {
      copied_any = true;
      BsonDoc ev = SnapshotEvent(doc, db, coll, is.at_cluster_time);
      lines.push_back(ToExtJson(ev.get(), options_.format) + "\n");
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "_id")) {
        last_id = BsonDoc::New();
        bson_append_iter(last_id.mut(), "_id", -1, &it);
      }
      if (lines.size() >= kCopyBatch) {
        result = flush();
        if (!result.ok()) break;
        if (stop_ && stop_->load()) {
          *stopped = true;
          break;
        }
      }
    }
    bson_error_t err;
    const bson_t* reply = nullptr;
    bool failed = result.ok() && !*stopped && mongoc_cursor_error_document(cursor, &err, &reply);
    mongoc_cursor_destroy(cursor);
    if (!result.ok() || *stopped) {
      mongoc_collection_destroy(c);
      return result;
    }
    if (!failed) {
      result = flush();
      mongoc_collection_destroy(c);
      return result;
    }
    // Documents read before the error are delivered; then the read continues after them.
    Status s = flush();
    if (!s.ok()) {
      mongoc_collection_destroy(c);
      return s;
    }
    if (is.consistent && attempt < 2) {
      reporter_->Log(std::string("snapshot read at the copy's cluster time failed (") + err.message +
                     "); continuing with readConcern majority: the copy may show changes after that time, "
                     "which the stream then replays (the output still ends at the final state)");
      is.consistent = false;
      continue;
    }
    (void)copied_any;
    mongoc_collection_destroy(c);
    return FromMongoc(err, "initial sync: reading " + ns + " failed");
  }
}

StatusWith<InitialSyncRunner::Result> MongoInitialSync::Run(Checkpoint cp, Delivery* delivery) {
  auto namespaces = Namespaces();
  if (!namespaces.ok()) return namespaces.status();
  const auto& all = namespaces.value();
  if (!cp.initial_sync) {
    auto t = SnapshotTime();
    if (!t.ok()) return t.status();
    Checkpoint::InitialSync is;
    is.at_cluster_time = t.value();
    is.ns = all.empty() ? "" : all.front();
    cp = Checkpoint();
    cp.initial_sync = std::move(is);
    BROOK_RETURN_IF_ERROR(delivery->Save(cp));  // the starting point, before any event
    reporter_->Log("initial sync: copying " + std::to_string(all.size()) + " collection(s) as of cluster time " +
                   std::to_string(t.value().t) + ":" + std::to_string(t.value().i));
  } else {
    reporter_->Log("initial sync: continuing " + cp.Describe());
  }
  for (const std::string& ns : all) {
    if (ns < cp.initial_sync->ns) continue;  // copied before the interruption
    if (ns != cp.initial_sync->ns) {
      cp.initial_sync->ns = ns;
      cp.initial_sync->last_id = BsonDoc();
    }
    bool stopped = false;
    BROOK_RETURN_IF_ERROR(CopyNamespace(ns, &cp, delivery, &stopped));
    if (stopped) return Result{true, cp.initial_sync->at_cluster_time};
  }
  ClusterTime t = cp.initial_sync->at_cluster_time;
  Checkpoint done;
  done.operation_time = t;
  BROOK_RETURN_IF_ERROR(delivery->Save(done));
  reporter_->Log("initial sync done; streaming changes from cluster time " + std::to_string(t.t) + ":" +
                 std::to_string(t.i));
  return Result{false, t};
}

}  // namespace brook::watch
