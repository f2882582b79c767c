#include "watch/change_source.h"

namespace brook::watch {

StartPoint StartPoint::FromCheckpoint(const Checkpoint& cp) {
  StartPoint s;
  if (!cp.token.IsEmpty()) {
    s.kind = cp.start_after ? Kind::kStartAfter : Kind::kResumeAfter;
    s.token = cp.token;
  } else if (cp.operation_time) {
    s.kind = Kind::kStartAtOperationTime;
    s.time = *cp.operation_time;
  }
  return s;
}

std::string StartPoint::Describe() const {
  switch (kind) {
    case Kind::kNow:
      return "now";
    case Kind::kResumeAfter:
    case Kind::kStartAfter: {
      std::string out = std::string(kind == Kind::kResumeAfter ? "resumeAfter " : "startAfter ") +
                        GetString(token.get(), "_data").value_or("?");
      if (auto ct = TokenClusterTime(token.get()))
        out += " (t=" + std::to_string(ct->t) + ":" + std::to_string(ct->i) + ")";
      return out;
    }
    case Kind::kStartAtOperationTime:
      return "startAtOperationTime " + std::to_string(time.t) + ":" + std::to_string(time.i);
  }
  return "?";
}

BsonDoc BuildWatchOpts(const WatchOptions& o, const StartPoint& start) {
  BsonDoc doc = BsonDoc::New();
  bson_t* b = doc.mut();
  if (!o.full_document.empty()) BSON_APPEND_UTF8(b, "fullDocument", o.full_document.c_str());
  if (!o.full_document_before_change.empty())
    BSON_APPEND_UTF8(b, "fullDocumentBeforeChange", o.full_document_before_change.c_str());
  if (o.batch_size > 0) BSON_APPEND_INT32(b, "batchSize", o.batch_size);
  BSON_APPEND_INT64(b, "maxAwaitTimeMS", o.max_await_ms);
  switch (start.kind) {
    case StartPoint::Kind::kNow:
      break;
    case StartPoint::Kind::kResumeAfter:
      BSON_APPEND_DOCUMENT(b, "resumeAfter", start.token.get());
      break;
    case StartPoint::Kind::kStartAfter:
      BSON_APPEND_DOCUMENT(b, "startAfter", start.token.get());
      break;
    case StartPoint::Kind::kStartAtOperationTime:
      BSON_APPEND_TIMESTAMP(b, "startAtOperationTime", start.time.t, start.time.i);
      break;
  }
  return doc;
}

std::string StreamError::Message() const {
  std::string msg = error.message;
  const bson_t* r = reply.get();
  if (r && !bson_empty(r)) {
    auto name = GetString(r, "codeName");
    auto code = GetInt(r, "code");
    if (name || code) msg = name.value_or("") + (code ? " (" + std::to_string(*code) + ")" : "") + ": " + msg;
    bson_iter_t it, child;
    if (bson_iter_init_find(&it, r, "errorLabels") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &child)) {
      std::string labels;
      while (bson_iter_next(&child))
        if (BSON_ITER_HOLDS_UTF8(&child)) labels += (labels.empty() ? "" : ", ") + std::string(bson_iter_utf8(&child, nullptr));
      if (!labels.empty()) msg += " [labels: " + labels + "]";
    }
  } else if (error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION) {
    msg = "network: " + msg;
  }
  return msg;
}

mongoc_client_t* NewClient(const std::string& uri_text, std::string* error) {
  bson_error_t err;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_text.c_str(), &err);
  if (!uri) {
    *error = std::string("--uri: ") + err.message;
    return nullptr;
  }
  if (!mongoc_uri_get_appname(uri)) mongoc_uri_set_appname(uri, "brook-watch");
  mongoc_client_t* client = mongoc_client_new_from_uri_with_error(uri, &err);
  mongoc_uri_destroy(uri);
  if (!client) {
    *error = std::string("--uri: ") + err.message;
    return nullptr;
  }
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  return client;
}

std::optional<ClusterTime> ProbeServerTime(mongoc_client_t* client) {
  bson_t cmd = BSON_INITIALIZER;
  BSON_APPEND_INT32(&cmd, "ping", 1);
  bson_t reply;
  bson_error_t err;
  bool ok = mongoc_client_command_simple(client, "admin", &cmd, nullptr, &reply, &err);
  bson_destroy(&cmd);
  std::optional<ClusterTime> out;
  if (ok) {
    out = GetTimestamp(&reply, "operationTime");
    if (!out) out = GetTimestamp(&reply, "$clusterTime.clusterTime");
  }
  bson_destroy(&reply);
  return out;
}

namespace {

class MongocSource : public ChangeSource {
 public:
  MongocSource(const WatchOptions& o) : options_(o) {}
  ~MongocSource() override {
    Close();
    if (client_) mongoc_client_destroy(client_);
  }

  bool Open(const StartPoint& start) override {
    Close();
    error_ = StreamError();
    if (!client_) {
      std::string why;
      client_ = NewClient(options_.uri, &why);
      if (!client_) {
        bson_set_error(&error_.error, MONGOC_ERROR_COMMAND, MONGOC_ERROR_COMMAND_INVALID_ARG, "%s", why.c_str());
        error_.cls = ErrorClass::kFatal;
        return false;
      }
    }
    BsonDoc opts = BuildWatchOpts(options_, start);
    switch (options_.scope) {
      case Scope::kCollection: {
        mongoc_collection_t* coll = mongoc_client_get_collection(client_, options_.db.c_str(), options_.coll.c_str());
        stream_ = mongoc_collection_watch(coll, options_.pipeline.get(), opts.get());
        mongoc_collection_destroy(coll);
        break;
      }
      case Scope::kDatabase: {
        mongoc_database_t* db = mongoc_client_get_database(client_, options_.db.c_str());
        stream_ = mongoc_database_watch(db, options_.pipeline.get(), opts.get());
        mongoc_database_destroy(db);
        break;
      }
      case Scope::kDeployment:
        stream_ = mongoc_client_watch(client_, options_.pipeline.get(), opts.get());
        break;
    }
    return !CaptureError();
  }

  Next NextEvent(const bson_t** event) override {
    if (!stream_) return Next::kError;
    if (mongoc_change_stream_next(stream_, event)) return Next::kEvent;
    return CaptureError() ? Next::kError : Next::kEmptyBatch;
  }

  const bson_t* ResumeToken() override { return stream_ ? mongoc_change_stream_get_resume_token(stream_) : nullptr; }
  const StreamError& error() const override { return error_; }
  void Close() override {
    if (stream_) mongoc_change_stream_destroy(stream_);
    stream_ = nullptr;
  }
  std::optional<ClusterTime> ServerTime() override {
    if (!client_) return std::nullopt;
    return ProbeServerTime(client_);
  }

 private:
  bool CaptureError() {
    const bson_t* reply = nullptr;
    bson_error_t err;
    if (!mongoc_change_stream_error_document(stream_, &err, &reply)) return false;
    error_.error = err;
    error_.reply = BsonDoc::Copy(reply);
    error_.cls = ClassifyStreamError(err, reply);
    return true;
  }

  WatchOptions options_;
  mongoc_client_t* client_ = nullptr;
  mongoc_change_stream_t* stream_ = nullptr;
  StreamError error_;
};

}  // namespace

std::unique_ptr<ChangeSource> MakeMongocSource(const WatchOptions& o) { return std::make_unique<MongocSource>(o); }

}  // namespace brook::watch
