#pragma once
// LogBuffer: the most recent log lines, kept in memory for the getLog command.
//
// Owns: two bounded rings, "global" (every line, the last kCapacity) and
// "startupWarnings" (warnings logged while starting). Lines are stored as written (one
// JSON object per line, MongoDB's structured log format).
// Thread-safety: internally locked; any thread may add or read.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brook::commands {

class LogBuffer {
 public:
  static constexpr size_t kCapacity = 1024;  // as MongoDB's RamLog

  void Add(std::string line);
  void AddStartupWarning(std::string line);  // also added to "global"

  // Names getLog: "*" lists.
  static std::vector<std::string_view> Names() { return {"global", "startupWarnings"}; }
  struct Snapshot {
    int64_t total_lines_written = 0;
    std::vector<std::string> lines;
  };
  // nullopt for an unknown log name.
  std::optional<Snapshot> Get(std::string_view name) const;

 private:
  mutable std::mutex mu_;
  std::deque<std::string> global_;
  std::deque<std::string> startup_;
  int64_t global_total_ = 0;
  int64_t startup_total_ = 0;
};

}  // namespace brook::commands
