#include "watch/initial_sync.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace brook::watch {
namespace {

constexpr size_t kDefaultCopyBatch = 1000;

// MongoDB's canonical type order of values, lowest first: each row is one bracket whose
// values compare with each other ($gt stays inside it), by BSON type code. Fixed by the
// server's sort order; arrays, regexes and undefined cannot be _ids but are listed so
// the table is the whole order.
const std::vector<std::vector<int>>& TypeBrackets() {
  static const std::vector<std::vector<int>> kBrackets = {
      {BSON_TYPE_MINKEY},
      {BSON_TYPE_UNDEFINED, BSON_TYPE_NULL},
      {BSON_TYPE_DOUBLE, BSON_TYPE_INT32, BSON_TYPE_INT64, BSON_TYPE_DECIMAL128},
      {BSON_TYPE_SYMBOL, BSON_TYPE_UTF8},
      {BSON_TYPE_DOCUMENT},
      {BSON_TYPE_ARRAY},
      {BSON_TYPE_BINARY},
      {BSON_TYPE_OID},
      {BSON_TYPE_BOOL},
      {BSON_TYPE_DATE_TIME},
      {BSON_TYPE_TIMESTAMP},
      {BSON_TYPE_REGEX},
      {BSON_TYPE_DBPOINTER},
      {BSON_TYPE_CODE},
      {BSON_TYPE_CODEWSCOPE},
      {BSON_TYPE_MAXKEY},
  };
  return kBrackets;
}

bool IsNaN(const bson_iter_t* it) {
  if (BSON_ITER_HOLDS_DOUBLE(it)) return std::isnan(bson_iter_double(it));
  if (BSON_ITER_HOLDS_DECIMAL128(it)) {
    bson_decimal128_t d;
    bson_iter_decimal128(it, &d);
    char s[BSON_DECIMAL128_STRING];
    bson_decimal128_to_string(&d, s);
    return std::string(s) == "NaN";
  }
  return false;
}

Status FromMongoc(const bson_error_t& err, const std::string& what) {
  return Status(static_cast<int32_t>(err.code ? err.code : 1), what + ": " + err.message);
}

std::pair<std::string, std::string> SplitNs(const std::string& ns) {
  auto dot = ns.find('.');
  return {ns.substr(0, dot), dot == std::string::npos ? "" : ns.substr(dot + 1)};
}

}  // namespace

BsonDoc ContinueAfterFilter(const bson_t* last_id) {
  BsonDoc filter = BsonDoc::New();
  bson_iter_t it;
  if (!last_id || !bson_iter_init_find(&it, last_id, "_id")) return filter;
  const int type = bson_iter_type(&it);
  const auto& brackets = TypeBrackets();
  size_t own = 0;
  while (own < brackets.size() &&
         std::find(brackets[own].begin(), brackets[own].end(), type) == brackets[own].end())
    ++own;
  bson_t* f = filter.mut();
  bson_t any, clause, cond, types;
  BSON_APPEND_ARRAY_BEGIN(f, "$or", &any);
  BSON_APPEND_DOCUMENT_BEGIN(&any, "0", &clause);
  BSON_APPEND_DOCUMENT_BEGIN(&clause, "_id", &cond);
  if (IsNaN(&it)) {
    BSON_APPEND_DOUBLE(&cond, "$gte", -std::numeric_limits<double>::infinity());
  } else {
    bson_append_iter(&cond, "$gt", -1, &it);
  }
  bson_append_document_end(&clause, &cond);
  bson_append_document_end(&any, &clause);
  if (own + 1 < brackets.size()) {
    BSON_APPEND_DOCUMENT_BEGIN(&any, "1", &clause);
    BSON_APPEND_DOCUMENT_BEGIN(&clause, "_id", &cond);
    BSON_APPEND_ARRAY_BEGIN(&cond, "$type", &types);
    int n = 0;
    for (size_t b = own + 1; b < brackets.size(); ++b)
      for (int code : brackets[b]) {
        std::string key = std::to_string(n++);
        // MinKey and MaxKey are -1 and 127 in $type (0xFF and 0x7F as BSON bytes).
        BSON_APPEND_INT32(&types, key.c_str(), code == BSON_TYPE_MINKEY ? -1 : code);
      }
    bson_append_array_end(&cond, &types);
    bson_append_document_end(&clause, &cond);
    bson_append_document_end(&any, &clause);
  }
  bson_append_array_end(f, &any);
  return filter;
}

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
  const size_t copy_batch = options_.batch_size > 0 ? static_cast<size_t>(options_.batch_size) : kDefaultCopyBatch;
  for (int attempt = 0;; ++attempt) {
    BsonDoc filter = is.last_id.IsEmpty() ? BsonDoc::New() : ContinueAfterFilter(is.last_id.get());
    bson_t opts = BSON_INITIALIZER, sub;
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sub);
    BSON_APPEND_INT32(&sub, "_id", 1);
    bson_append_document_end(&opts, &sub);
    BSON_APPEND_INT32(&opts, "batchSize", static_cast<int32_t>(copy_batch));
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "readConcern", &sub);
    if (is.consistent) {
      BSON_APPEND_UTF8(&sub, "level", "snapshot");
      BSON_APPEND_TIMESTAMP(&sub, "atClusterTime", is.at_cluster_time.t, is.at_cluster_time.i);
    } else {
      BSON_APPEND_UTF8(&sub, "level", "majority");
    }
    bson_append_document_end(&opts, &sub);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, filter.get(), &opts, nullptr);
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
      if (lines.size() >= copy_batch) {
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
