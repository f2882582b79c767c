// Conflict history for the group commit. See conflict_table.h.

#include "storage/conflict_table.h"

#include <algorithm>

namespace brook::storage::internal {

ConflictTable::KeyHash ConflictTable::HashKey(int family, std::string_view key) {
  // libstdc++'s string hash is 64-bit MurmurHash; the family is folded in with a
  // splitmix64 finaliser so that one key in two families gives unrelated fingerprints.
  uint64_t h = std::hash<std::string_view>{}(key) + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(family + 1);
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

bool ConflictTable::Conflicts(KeyHash key, uint64_t snapshot_seq) const {
  // History between the snapshot and the floor is gone: a write there cannot be ruled out.
  if (snapshot_seq < floor_) return true;
  if (last_write_.empty()) return false;
  auto it = last_write_.find(key);
  return it != last_write_.end() && it->second > snapshot_seq;
}

void ConflictTable::MarkPending(KeyHash key) {
  auto [it, inserted] = last_write_.try_emplace(key, kPending);
  if (!inserted) {
    if (it->second == kPending) return;  // written twice in this group (same unit)
    it->second = kPending;
  }
  pending_.push_back(it->first);
}

void ConflictTable::Publish(uint64_t seq) {
  for (KeyHash key : pending_) {
    last_write_[key] = seq;
    history_.emplace_back(seq, key);
  }
  pending_.clear();
}

void ConflictTable::DropOldest() {
  auto& [seq, key] = history_.front();
  auto it = last_write_.find(key);
  // A later write of the same key has its own, newer history entry.
  if (it != last_write_.end() && it->second == seq) last_write_.erase(it);
  history_.pop_front();
}

void ConflictTable::Prune(uint64_t oldest_unit_seq) {
  // A unit at snapshot S needs only writes above S.
  while (!history_.empty() && history_.front().first <= oldest_unit_seq) DropOldest();
  while (history_.size() > max_entries_) {
    floor_ = std::max(floor_, history_.front().first);
    DropOldest();
  }
}

}  // namespace brook::storage::internal
