#pragma once
// Test-only fault injection for the storage engine (RocksDB's FaultInjectionTestFS is not
// in Debian's headers): a FileSystem wrapper that can fail WAL syncs on demand and
// simulate a power cut by dropping every WAL byte that was never synced.
//
// Owns: bookkeeping of written vs synced bytes per WAL file (*.log).
// Thread-safety: all methods are thread-safe; DropUnsyncedData must run with no engine
// open on the directory.

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace brook::storage::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFs(std::shared_ptr<rocksdb::FileSystem> base);
  static const char* kClassName() { return "BrookFaultFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;

  // Every later Sync/Fsync fails with an IOError.
  void SetFailSync(bool fail) { fail_sync_ = fail; }
  // The power goes out: later appends are dropped and syncs persist nothing.
  void Crash() { crashed_ = true; }
  // After the engine is closed: cut every WAL file back to its last synced length, then
  // behave normally again.
  void DropUnsyncedData();

  // Bookkeeping, called by the file wrappers.
  bool fail_sync() const { return fail_sync_; }
  bool crashed() const { return crashed_; }
  void Appended(const std::string& fname, uint64_t n);
  void Synced(const std::string& fname);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::atomic<bool> fail_sync_{false};
  std::atomic<bool> crashed_{false};
};

}  // namespace brook::storage::testing
