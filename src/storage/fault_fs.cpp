#include "storage/fault_fs.h"

#include <unistd.h>

namespace brook::storage::testing {

namespace {

bool IsWal(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> target, FaultFs* fs, std::string fname)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), fname_(std::move(fname)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (fs_->crashed()) return rocksdb::IOStatus::OK();  // lost with the power
    rocksdb::IOStatus s = target()->Append(data, o, dbg);
    if (s.ok()) fs_->Appended(fname_, data.size());
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& /*info*/,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, o, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return DoSync([&] { return target()->Sync(o, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return DoSync([&] { return target()->Fsync(o, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();  // a hint only; durability comes from Sync
  }

 private:
  template <typename F>
  rocksdb::IOStatus DoSync(F sync) {
    if (fs_->crashed()) return rocksdb::IOStatus::OK();
    if (fs_->fail_sync()) return rocksdb::IOStatus::IOError("injected sync failure");
    rocksdb::IOStatus s = sync();
    if (s.ok()) fs_->Synced(fname_);
    return s;
  }

  FaultFs* fs_;
  std::string fname_;
};

}  // namespace

FaultFs::FaultFs(std::shared_ptr<rocksdb::FileSystem> base) : FileSystemWrapper(std::move(base)) {}

rocksdb::IOStatus FaultFs::NewWritableFile(const std::string& fname,
                                           const rocksdb::FileOptions& opts,
                                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                                           rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
  if (!s.ok()) return s;
  if (!IsWal(fname)) {
    *result = std::move(file);
    return s;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    files_[fname] = FileState{};
  }
  *result = std::make_unique<FaultFile>(std::move(file), this, fname);
  return s;
}

rocksdb::IOStatus FaultFs::ReopenWritableFile(const std::string& fname,
                                              const rocksdb::FileOptions& opts,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                                              rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, opts, &file, dbg);
  if (!s.ok() || !IsWal(fname)) {
    *result = std::move(file);
    return s;
  }
  uint64_t size = 0;
  target()->GetFileSize(fname, rocksdb::IOOptions(), &size, dbg).PermitUncheckedError();
  {
    std::lock_guard<std::mutex> l(mu_);
    files_[fname] = FileState{size, size};
  }
  *result = std::make_unique<FaultFile>(std::move(file), this, fname);
  return s;
}

void FaultFs::Appended(const std::string& fname, uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  files_[fname].size += n;
}

void FaultFs::Synced(const std::string& fname) {
  std::lock_guard<std::mutex> l(mu_);
  FileState& f = files_[fname];
  f.synced = f.size;
}

void FaultFs::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, state] : files_) {
    if (state.synced < state.size) {
      // The file may be gone already (WAL deleted after a flush); nothing to drop then.
      if (::truncate(name.c_str(), static_cast<off_t>(state.synced)) != 0) continue;
    }
  }
  files_.clear();
  crashed_ = false;
  fail_sync_ = false;
}

}  // namespace brook::storage::testing
