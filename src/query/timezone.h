#pragma once
// Time zones as MongoDB's date expressions accept them: "UTC"/"GMT"/"Z", fixed offsets
// ("+hh", "+hhmm", "+hh:mm") and Olson names ("Europe/Paris"), the last resolved against
// the system's tz database (Debian's tzdata, /usr/share/zoneinfo; BROOK_ZONEINFO overrides
// the directory for tests). An Olson zone's offset depends on the instant: the TZif file's
// transitions, then its POSIX TZ footer rule for instants after the last transition.
// Thread-safety: TimeZone is immutable; the zone cache behind Parse is internally locked.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace brook::query {

struct ZoneRules;

class TimeZone {
 public:
  TimeZone() = default;  // UTC

  // 40485 "unrecognized time zone identifier" for anything else.
  static StatusWith<TimeZone> Parse(std::string_view spec);
  static TimeZone FixedOffset(int64_t offset_millis);

  // Offset of local wall-clock time from UTC at the instant `utc_millis`.
  int64_t OffsetAt(int64_t utc_millis) const;
  // The instant whose local time is `local_millis`. In a DST gap or overlap the offset in
  // force just before the transition decides, as timelib does.
  int64_t ToUtc(int64_t local_millis) const;

  bool IsUtc() const { return rules_ == nullptr && fixed_ == 0; }

 private:
  int64_t fixed_ = 0;
  std::shared_ptr<const ZoneRules> rules_;
};

// "UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT" -> 0; "+hh", "+hhmm", "+hh:mm" (and '-') -> the offset in
// millis; anything else 40485.
StatusWith<int64_t> ParseUtcOffset(std::string_view spec);

// Parses a TZif file's bytes (RFC 8536, versions 1 to 4). Exposed for tests.
StatusWith<std::shared_ptr<const ZoneRules>> ParseTzif(std::string_view bytes);
// Offset at `utc_seconds` under `rules`; exposed for tests.
int64_t ZoneOffsetSeconds(const ZoneRules& rules, int64_t utc_seconds);

}  // namespace brook::query
