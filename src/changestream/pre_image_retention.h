#pragma once
// Pre-image retention: the changeStreamOptions cluster parameter
// ({preAndPostImages: {expireAfterSeconds: N | "off"}}) and the removal of pre-images
// older than N seconds.
//
// Owns: the parameter's validation (MongoDB's BadValue cases), its persisted form, and
// the expiry pass over storage's preimages family.
// On-disk fact: the parameter lives in the catalog family under
// kChangeStreamOptionsKey as the BSON document getClusterParameter returns
// ({_id, clusterParameterTime, preAndPostImages: {expireAfterSeconds}}); do not change.
// Age: a pre-image's age is read from its key's timestamp (the write's cluster time).
// Cluster-time seconds never lag the wall clock (the sequencer takes max(wall, last+1)),
// so a pre-image is never removed before it is expireAfterSeconds old by wall time.
// Removal by oplog truncation is storage's (the truncator range-deletes pre-images with
// the entries that reference them); this pass only adds the time-based bound.
// Thread-safety: free functions over a thread-safe Engine; an expiry pass may run
// concurrently with writes and readers (a reader either finds a pre-image or reports it
// missing, exactly as after truncation).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "bson/document.h"
#include "bson/types.h"
#include "util/status.h"

namespace brook::storage {
class Engine;
}

namespace brook::changestream {

inline constexpr std::string_view kChangeStreamOptionsName = "changeStreamOptions";
inline constexpr std::string_view kChangeStreamOptionsKey = "clusterParameter/changeStreamOptions";

struct ChangeStreamOptions {
  std::optional<int64_t> expire_after_seconds;  // nullopt: "off" (the default)
  bson::Timestamp cluster_parameter_time;       // {0, 0} until first set
};

// Parses the value of setClusterParameter's changeStreamOptions field. BadValue (2) for
// an empty document, an empty preAndPostImages, unknown fields, a string other than
// "off", or a number that is not a positive integer.
StatusWith<ChangeStreamOptions> ParseChangeStreamOptions(bson::Element value);

// {_id: "changeStreamOptions", clusterParameterTime, preAndPostImages: {expireAfterSeconds}}
// with expireAfterSeconds a NumberLong or "off", as getClusterParameter replies.
bson::Doc ChangeStreamOptionsToBson(const ChangeStreamOptions& options);

// The persisted value, or the default ("off") when never set.
StatusWith<ChangeStreamOptions> LoadChangeStreamOptions(storage::Engine* engine);
// Writes the value with a no-op oplog entry in one atomic commit; returns that commit's
// timestamp (durable once Engine::durable() reaches it).
StatusWith<bson::Timestamp> SaveChangeStreamOptions(storage::Engine* engine, const ChangeStreamOptions& options);

// Removes every pre-image whose cluster time is below `cutoff` (seeking past each
// collection's kept pre-images, which are sorted by time); returns how many.
StatusWith<size_t> RemovePreImagesBefore(storage::Engine* engine, bson::Timestamp cutoff);

// One expiry pass: with expireAfterSeconds N set, removes pre-images older than
// now_secs - N. Returns how many were removed (0 when "off").
StatusWith<size_t> ExpirePreImages(storage::Engine* engine, int64_t now_secs);

}  // namespace brook::changestream
