#include "watch/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace brook::watch {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status(ErrorCodes::kInternalError, what + " " + path + ": " + std::strerror(errno));
}

class PosixFileOps : public FileOps {
 public:
  Status WriteFile(const std::string& path, const std::string& data) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create", path);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Status s = Errno("cannot write", path);
        ::close(fd);
        return s;
      }
      done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) return Errno("cannot close", path);
    return Status::OK();
  }
  Status FsyncFile(const std::string& path) override { return SyncPath(path, O_RDONLY); }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("cannot rename " + from + " to", to);
    return Status::OK();
  }
  Status FsyncDir(const std::string& dir) override { return SyncPath(dir, O_RDONLY | O_DIRECTORY); }
  StatusWith<std::optional<std::string>> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::optional<std::string>();
      return Errno("cannot open", path);
    }
    std::string out;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Status s = Errno("cannot read", path);
        ::close(fd);
        return s;
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return std::optional<std::string>(std::move(out));
  }

 private:
  static Status SyncPath(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", path);
    if (::fsync(fd) != 0) {
      Status s = Errno("cannot fsync", path);
      ::close(fd);
      return s;
    }
    ::close(fd);
    return Status::OK();
  }
};

void AppendTimestamp(bson_t* b, const char* key, ClusterTime t) { BSON_APPEND_TIMESTAMP(b, key, t.t, t.i); }

}  // namespace

FileOps* FileOps::Posix() {
  static PosixFileOps ops;
  return &ops;
}

BsonDoc Checkpoint::ToBson(const std::string& stream_name) const {
  BsonDoc doc = BsonDoc::New();
  bson_t* b = doc.mut();
  BSON_APPEND_INT32(b, "v", 1);
  BSON_APPEND_UTF8(b, "name", stream_name.c_str());
  if (!token.IsEmpty()) BSON_APPEND_DOCUMENT(b, "token", token.get());
  BSON_APPEND_BOOL(b, "startAfter", start_after);
  if (operation_time) AppendTimestamp(b, "operationTime", *operation_time);
  if (sink_offset) BSON_APPEND_INT64(b, "sinkOffset", *sink_offset);
  if (initial_sync) {
    bson_t sub;
    BSON_APPEND_DOCUMENT_BEGIN(b, "initialSync", &sub);
    AppendTimestamp(&sub, "atClusterTime", initial_sync->at_cluster_time);
    BSON_APPEND_UTF8(&sub, "ns", initial_sync->ns.c_str());
    if (!initial_sync->last_id.IsEmpty()) BSON_APPEND_DOCUMENT(&sub, "lastId", initial_sync->last_id.get());
    BSON_APPEND_BOOL(&sub, "consistent", initial_sync->consistent);
    bson_append_document_end(b, &sub);
  }
  return doc;
}

StatusWith<Checkpoint> Checkpoint::FromBson(const bson_t* doc) {
  Checkpoint cp;
  auto v = GetInt(doc, "v");
  if (!v || *v != 1) return Status(ErrorCodes::kBadValue, "checkpoint has no version 1 field 'v'");
  cp.token = GetDocument(doc, "token");
  if (!cp.token.IsEmpty() && !GetString(cp.token.get(), "_data"))
    return Status(ErrorCodes::kBadValue, "checkpoint token has no string _data");
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, "startAfter") && BSON_ITER_HOLDS_BOOL(&it)) cp.start_after = bson_iter_bool(&it);
  cp.operation_time = GetTimestamp(doc, "operationTime");
  if (bson_iter_init_find(&it, doc, "sinkOffset")) {
    auto off = GetInt(doc, "sinkOffset");
    if (!off || *off < 0) return Status(ErrorCodes::kBadValue, "checkpoint sinkOffset is not a non-negative integer");
    cp.sink_offset = *off;
  }
  BsonDoc is = GetDocument(doc, "initialSync");
  if (!is.IsEmpty()) {
    Checkpoint::InitialSync s;
    auto at = GetTimestamp(is.get(), "atClusterTime");
    auto ns = GetString(is.get(), "ns");
    if (!at || !ns) return Status(ErrorCodes::kBadValue, "checkpoint initialSync lacks atClusterTime or ns");
    s.at_cluster_time = *at;
    s.ns = *ns;
    s.last_id = GetDocument(is.get(), "lastId");
    if (bson_iter_init_find(&it, is.get(), "consistent") && BSON_ITER_HOLDS_BOOL(&it)) s.consistent = bson_iter_bool(&it);
    cp.initial_sync = std::move(s);
  }
  if (cp.token.IsEmpty() && !cp.operation_time && !cp.initial_sync)
    return Status(ErrorCodes::kBadValue, "checkpoint has no token, operationTime or initialSync");
  return cp;
}

std::string Checkpoint::Describe() const {
  std::string out;
  if (initial_sync) {
    out = "initial sync of " + initial_sync->ns + " at " + std::to_string(initial_sync->at_cluster_time.t) + ":" +
          std::to_string(initial_sync->at_cluster_time.i);
    if (!initial_sync->last_id.IsEmpty()) out += " after " + ToExtJson(initial_sync->last_id.get(), JsonFormat::kRelaxed);
  } else if (!token.IsEmpty()) {
    out = std::string(start_after ? "startAfter " : "resumeAfter ") + GetString(token.get(), "_data").value_or("?");
    if (auto ct = TokenClusterTime(token.get())) out += " (t=" + std::to_string(ct->t) + ":" + std::to_string(ct->i) + ")";
  } else if (operation_time) {
    out = "startAtOperationTime " + std::to_string(operation_time->t) + ":" + std::to_string(operation_time->i);
  }
  if (sink_offset) out += ", sink offset " + std::to_string(*sink_offset);
  return out;
}

FileCheckpointStore::FileCheckpointStore(std::string path, std::string stream_name, FileOps* ops)
    : path_(std::move(path)), stream_name_(std::move(stream_name)), ops_(ops) {}

StatusWith<std::optional<Checkpoint>> FileCheckpointStore::Load() {
  auto text = ops_->ReadFile(path_);
  if (!text.ok()) return text.status();
  if (!text.value()) return std::optional<Checkpoint>();
  std::string err;
  BsonDoc doc = BsonDoc::FromJson(*text.value(), &err);
  if (doc.IsEmpty())
    return Status(ErrorCodes::kFailedToParse, "checkpoint file " + path_ + " is not valid Extended JSON: " + err);
  auto cp = Checkpoint::FromBson(doc.get());
  if (!cp.ok()) return cp.status().WithContext("checkpoint file " + path_);
  return std::optional<Checkpoint>(std::move(cp.value()));
}

Status FileCheckpointStore::Save(const Checkpoint& cp) {
  // Crash at any step leaves either the old or the new checkpoint: rename is atomic, the
  // fsync before it makes the new bytes durable first, the one after makes the rename so.
  std::string tmp = path_ + ".tmp";
  std::string data = ToExtJson(cp.ToBson(stream_name_).get(), JsonFormat::kCanonical) + "\n";
  BROOK_RETURN_IF_ERROR(ops_->WriteFile(tmp, data));
  BROOK_RETURN_IF_ERROR(ops_->FsyncFile(tmp));
  BROOK_RETURN_IF_ERROR(ops_->Rename(tmp, path_));
  std::string dir = std::filesystem::path(path_).parent_path().string();
  return ops_->FsyncDir(dir.empty() ? "." : dir);
}

}  // namespace brook::watch
