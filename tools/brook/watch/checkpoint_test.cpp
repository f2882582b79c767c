#include "watch/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace brook::watch {
namespace {

BsonDoc Token(const char* hex) {
  BsonDoc t = BsonDoc::New();
  BSON_APPEND_UTF8(t.mut(), "_data", hex);
  return t;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/brook-ckpt-XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Records the calls and keeps files in memory; can fail one chosen step.
class RecordingOps : public FileOps {
 public:
  std::vector<std::string> calls;
  std::map<std::string, std::string> files;
  std::string fail_at;  // e.g. "rename"

  Status WriteFile(const std::string& path, const std::string& data) override {
    calls.push_back("write " + path);
    if (fail_at == "write") return Status(ErrorCodes::kInternalError, "disk full");
    files[path] = data;
    return Status::OK();
  }
  Status FsyncFile(const std::string& path) override {
    calls.push_back("fsync " + path);
    if (fail_at == "fsync") return Status(ErrorCodes::kInternalError, "EIO");
    return Status::OK();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    calls.push_back("rename " + from + " " + to);
    if (fail_at == "rename") return Status(ErrorCodes::kInternalError, "EXDEV");
    files[to] = files[from];
    files.erase(from);
    return Status::OK();
  }
  Status FsyncDir(const std::string& dir) override {
    calls.push_back("fsyncdir " + dir);
    return Status::OK();
  }
  StatusWith<std::optional<std::string>> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
};

TEST(Checkpoint, BsonRoundTripKeepsEveryField) {
  Checkpoint cp;
  cp.token = Token("82650000000000000001");
  cp.start_after = true;
  cp.sink_offset = int64_t{1} << 40;
  Checkpoint::InitialSync is;
  is.at_cluster_time = {1700000000, 3};
  is.ns = "shop.orders";
  is.last_id = BsonDoc::New();
  BSON_APPEND_INT64(is.last_id.mut(), "_id", 42);
  is.consistent = false;
  cp.initial_sync = std::move(is);
  BsonDoc doc = cp.ToBson("s1");
  auto back = Checkpoint::FromBson(doc.get());
  ASSERT_TRUE(back.ok()) << back.status().reason();
  EXPECT_TRUE(back.value().token.SameBytes(cp.token));
  EXPECT_TRUE(back.value().start_after);
  EXPECT_EQ(back.value().sink_offset, cp.sink_offset);
  ASSERT_TRUE(back.value().initial_sync);
  EXPECT_EQ(back.value().initial_sync->at_cluster_time, (ClusterTime{1700000000, 3}));
  EXPECT_EQ(back.value().initial_sync->ns, "shop.orders");
  EXPECT_EQ(GetInt(back.value().initial_sync->last_id.get(), "_id"), 42);
  EXPECT_FALSE(back.value().initial_sync->consistent);
  EXPECT_EQ(GetString(doc.get(), "name"), "s1");
}

TEST(Checkpoint, RejectsDocumentsThatAreNotCheckpoints) {
  std::string err;
  for (const char* json : {R"({"token": {"_data": "82"}})", R"({"v": 2, "token": {"_data": "82"}})",
                           R"({"v": 1})", R"({"v": 1, "token": {"x": 1}})", R"({"v": 1, "operationTime": 5})",
                           R"({"v": 1, "token": {"_data": "82"}, "sinkOffset": -5})"}) {
    BsonDoc d = BsonDoc::FromJson(json, &err);
    EXPECT_FALSE(Checkpoint::FromBson(d.get()).ok()) << json;
  }
}

TEST(FileCheckpointStore, SaveWritesTempFsyncsRenamesThenFsyncsDir) {
  RecordingOps ops;
  FileCheckpointStore store("/data/ckpt/s.ckpt", "s", &ops);
  Checkpoint cp;
  cp.token = Token("8201");
  ASSERT_TRUE(store.Save(cp).ok());
  std::vector<std::string> want = {"write /data/ckpt/s.ckpt.tmp", "fsync /data/ckpt/s.ckpt.tmp",
                                   "rename /data/ckpt/s.ckpt.tmp /data/ckpt/s.ckpt", "fsyncdir /data/ckpt"};
  EXPECT_EQ(ops.calls, want);
  auto loaded = store.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded.value());
  EXPECT_TRUE(loaded.value()->token.SameBytes(cp.token));
}

TEST(FileCheckpointStore, AFailedStepLeavesTheOldCheckpoint) {
  for (const char* step : {"write", "fsync", "rename"}) {
    RecordingOps ops;
    FileCheckpointStore store("c.ckpt", "s", &ops);
    Checkpoint old_cp;
    old_cp.token = Token("8201");
    old_cp.sink_offset = 10;
    ASSERT_TRUE(store.Save(old_cp).ok());
    ops.fail_at = step;
    Checkpoint new_cp;
    new_cp.token = Token("8202");
    new_cp.sink_offset = 20;
    EXPECT_FALSE(store.Save(new_cp).ok()) << step;
    auto loaded = store.Load();
    ASSERT_TRUE(loaded.ok() && loaded.value()) << step;
    EXPECT_TRUE(loaded.value()->token.SameBytes(old_cp.token)) << step;
    EXPECT_EQ(loaded.value()->sink_offset, 10) << step;
    // The directory is fsynced relative to "." for a bare file name.
    if (std::string(step) == "write") {
      EXPECT_EQ(ops.calls[3], "fsyncdir .");
    }
  }
}

TEST(FileCheckpointStore, RealFilesystemRoundTripAndMissingFile) {
  TempDir dir;
  FileCheckpointStore store(dir.File("w.ckpt"), "w");
  auto none = store.Load();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value());
  Checkpoint cp;
  cp.operation_time = ClusterTime{1700000001, 2};
  cp.sink_offset = 77;
  ASSERT_TRUE(store.Save(cp).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("w.ckpt.tmp")));
  // A stale temp file from a crash mid-save does not matter.
  { std::ofstream(dir.File("w.ckpt.tmp")) << "garbage{"; }
  auto loaded = store.Load();
  ASSERT_TRUE(loaded.ok() && loaded.value());
  EXPECT_EQ(loaded.value()->operation_time, (ClusterTime{1700000001, 2}));
  EXPECT_EQ(loaded.value()->sink_offset, 77);
  cp.operation_time.reset();
  cp.token = Token("8203");
  ASSERT_TRUE(store.Save(cp).ok());
  loaded = store.Load();
  EXPECT_TRUE(loaded.value()->token.SameBytes(cp.token));
  // The file is one line of canonical Extended JSON.
  std::ifstream in(dir.File("w.ckpt"));
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find(R"("sinkOffset" : { "$numberLong" : "77" })"), std::string::npos) << line;
}

TEST(FileCheckpointStore, CorruptFileIsAnErrorNamingIt) {
  TempDir dir;
  { std::ofstream(dir.File("bad.ckpt")) << "{not json"; }
  FileCheckpointStore store(dir.File("bad.ckpt"), "w");
  auto loaded = store.Load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().reason().find("bad.ckpt"), std::string::npos);
}

TEST(BsonUtil, TokenClusterTimeReadsTheLeadingTimestamp) {
  BsonDoc t = Token("82612E8513000000012B022C0100296E5A1004");
  auto ct = TokenClusterTime(t.get());
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->t, 1630438675u);
  EXPECT_EQ(ct->i, 1u);
  EXPECT_FALSE(TokenClusterTime(Token("8261").get()));
  EXPECT_FALSE(TokenClusterTime(Token("01612E8513000000012B").get()));
}

TEST(BsonUtil, ExtendedJsonForms) {
  std::string err;
  BsonDoc d = BsonDoc::FromJson(R"({"n": {"$numberLong": "5"}, "d": {"$date": "2024-01-02T03:04:05Z"}})", &err);
  EXPECT_EQ(ToExtJson(d.get(), JsonFormat::kRelaxed), R"({ "n" : 5, "d" : { "$date" : "2024-01-02T03:04:05Z" } })");
  EXPECT_EQ(ToExtJson(d.get(), JsonFormat::kCanonical),
            R"({ "n" : { "$numberLong" : "5" }, "d" : { "$date" : { "$numberLong" : "1704164645000" } } })");
  // One line always: newlines inside strings are escaped.
  BSON_APPEND_UTF8(d.mut(), "s", "a\nb");
  EXPECT_EQ(ToExtJson(d.get(), JsonFormat::kRelaxed).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace brook::watch
