#include "watch/mongo_checkpoint.h"

#include <chrono>

namespace brook::watch {
namespace {

Status FromMongoc(const bson_error_t& err, const std::string& what) {
  return Status(static_cast<int32_t>(err.code ? err.code : 1), what + ": " + err.message);
}

}  // namespace

MongoCheckpointStore::MongoCheckpointStore(mongoc_client_t* client, std::string db, std::string coll,
                                           std::string stream_name)
    : client_(client), db_(std::move(db)), coll_(std::move(coll)), name_(std::move(stream_name)) {
  coll_handle_ = mongoc_client_get_collection(client_, db_.c_str(), coll_.c_str());
  mongoc_write_concern_t* wc = mongoc_write_concern_new();
  mongoc_write_concern_set_wmajority(wc, 10000);
  mongoc_collection_set_write_concern(coll_handle_, wc);
  mongoc_write_concern_destroy(wc);
  mongoc_read_concern_t* rc = mongoc_read_concern_new();
  mongoc_read_concern_set_level(rc, MONGOC_READ_CONCERN_LEVEL_MAJORITY);
  mongoc_collection_set_read_concern(coll_handle_, rc);
  mongoc_read_concern_destroy(rc);
}

MongoCheckpointStore::~MongoCheckpointStore() {
  mongoc_collection_destroy(coll_handle_);
  mongoc_client_destroy(client_);
}

StatusWith<std::optional<Checkpoint>> MongoCheckpointStore::Load() {
  bson_t filter = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&filter, "_id", name_.c_str());
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_INT64(&opts, "limit", 1);
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll_handle_, &filter, &opts, nullptr);
  const bson_t* doc = nullptr;
  std::optional<BsonDoc> found;
  if (mongoc_cursor_next(cursor, &doc)) found = BsonDoc::Copy(doc);
  bson_error_t err;
  bool failed = mongoc_cursor_error(cursor, &err);
  mongoc_cursor_destroy(cursor);
  bson_destroy(&filter);
  bson_destroy(&opts);
  if (failed) return FromMongoc(err, "cannot read the checkpoint from " + Describe());
  if (!found) return std::optional<Checkpoint>();
  auto cp = Checkpoint::FromBson(found->get());
  if (!cp.ok()) return cp.status().WithContext("checkpoint " + Describe());
  return std::optional<Checkpoint>(std::move(cp.value()));
}

Status MongoCheckpointStore::Save(const Checkpoint& cp) {
  BsonDoc body = cp.ToBson(name_);
  bson_t replacement = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&replacement, "_id", name_.c_str());
  bson_concat(&replacement, body.get());
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BSON_APPEND_DATE_TIME(&replacement, "updatedAt", now_ms);
  bson_t selector = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&selector, "_id", name_.c_str());
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_BOOL(&opts, "upsert", true);
  bson_error_t err;
  bool ok = mongoc_collection_replace_one(coll_handle_, &selector, &replacement, &opts, nullptr, &err);
  bson_destroy(&replacement);
  bson_destroy(&selector);
  bson_destroy(&opts);
  if (!ok) return FromMongoc(err, "cannot save the checkpoint to " + Describe());
  return Status::OK();
}

}  // namespace brook::watch
