#pragma once
// Write-write conflict detection for the group commit (optimistic concurrency control).
//
// Owns: for each recently written key, the RocksDB sequence number of the commit that
// last wrote it. An entry is kept while a write unit whose snapshot is older than that
// commit may still try to commit; older history is pruned.
//
// A unit that reads at snapshot sequence S conflicts when a key it wrote, or read with
// GetForUpdate, was written by a commit with a sequence above S, or by an earlier unit
// of the group being committed right now (a pending write, which no snapshot can see).
// When history had to be dropped over the size cap before every old unit finished, a
// unit older than the dropped history conflicts (the same answer RocksDB's optimistic
// transactions give once the memtable history is gone: retry).
//
// Keys are remembered by a 64-bit fingerprint (KeyHash), not by their bytes: no copy or
// allocation per written key, and one integer compare per probe. Two keys with one
// fingerprint make a write look like a conflict with the other key's write: a spurious
// WriteConflict, which every caller already retries; with 64 bits and at most
// kDefaultMaxEntries remembered keys, about one commit in 10^14 would see one.
//
// Thread-safety: none. Only the group-commit leader uses it, and there is one at a time.

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace brook::storage::internal {

class ConflictTable {
 public:
  // Beyond this many remembered writes the oldest are dropped even if an old unit still
  // needs them (bounds memory when a unit or transaction stays open under heavy writes).
  static constexpr size_t kDefaultMaxEntries = 256 * 1024;

  using KeyHash = uint64_t;
  // The fingerprint of `key` in column family number `family`.
  static KeyHash HashKey(int family, std::string_view key);

  explicit ConflictTable(size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

  // True when a unit reading at `snapshot_seq` must not commit a write or locked read of
  // the key.
  bool Conflicts(KeyHash key, uint64_t snapshot_seq) const;

  // Records a write by a unit of the group being committed; later units of the same
  // group then conflict on the key. The write gets its sequence number at Publish.
  void MarkPending(KeyHash key);

  // The same, for a key of family 0 (tests).
  bool Conflicts(std::string_view key, uint64_t snapshot_seq) const {
    return Conflicts(HashKey(0, key), snapshot_seq);
  }
  void MarkPending(std::string_view key) { MarkPending(HashKey(0, key)); }

  // The group's batch is in the database, every write at or below `seq`.
  void Publish(uint64_t seq);

  // Forgets writes no unit needs: every live unit's snapshot is at or above
  // `oldest_unit_seq`. Also applies the size cap.
  void Prune(uint64_t oldest_unit_seq);

  size_t size() const { return last_write_.size(); }

 private:
  static constexpr uint64_t kPending = UINT64_MAX;

  void DropOldest();

  // Fingerprints are already well mixed: use them as they are.
  struct Identity {
    size_t operator()(KeyHash h) const { return static_cast<size_t>(h); }
  };

  size_t max_entries_;
  std::unordered_map<KeyHash, uint64_t, Identity> last_write_;
  std::deque<std::pair<uint64_t, KeyHash>> history_;  // publish order: seq ascending
  std::vector<KeyHash> pending_;
  uint64_t floor_ = 0;  // writes at or below this were dropped by the cap
};

}  // namespace brook::storage::internal
