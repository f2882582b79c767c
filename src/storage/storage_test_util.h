#pragma once
// What the storage tests share: a temporary data directory and an engine opened on it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/engine.h"

namespace brook::storage::testing {

// A fresh directory under the system's temp dir, removed (with its contents) at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("brook_storage_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The engine, or null after a test failure saying why it did not open.
inline std::unique_ptr<Engine> OpenOrDie(const EngineOptions& o) {
  auto r = Engine::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

}  // namespace brook::storage::testing
