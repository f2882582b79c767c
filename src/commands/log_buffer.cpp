#include "commands/log_buffer.h"

namespace brook::commands {

void LogBuffer::Add(std::string line) {
  std::lock_guard lock(mu_);
  global_.push_back(std::move(line));
  if (global_.size() > kCapacity) global_.pop_front();
  ++global_total_;
}

void LogBuffer::AddStartupWarning(std::string line) {
  {
    std::lock_guard lock(mu_);
    startup_.push_back(line);
    if (startup_.size() > kCapacity) startup_.pop_front();
    ++startup_total_;
  }
  Add(std::move(line));
}

std::optional<LogBuffer::Snapshot> LogBuffer::Get(std::string_view name) const {
  std::lock_guard lock(mu_);
  if (name == "global") return Snapshot{global_total_, {global_.begin(), global_.end()}};
  if (name == "startupWarnings") return Snapshot{startup_total_, {startup_.begin(), startup_.end()}};
  return std::nullopt;
}

}  // namespace brook::commands
