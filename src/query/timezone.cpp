#include "query/timezone.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

namespace brook::query {

namespace {

// The POSIX TZ rule of a TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
struct PosixDate {
  char kind = 'M';  // 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day)
  int a = 0, b = 0, c = 0;
  int64_t time = 7200;  // seconds after local midnight; may be negative or past 24h
};

struct PosixRule {
  int64_t std_off = 0;  // seconds east of UTC
  bool has_dst = false;
  int64_t dst_off = 0;
  PosixDate start, end;
};

}  // namespace

struct ZoneRules {
  std::vector<int64_t> transitions;  // UTC seconds, ascending
  std::vector<int64_t> offsets;      // offset in force from transitions[i] on
  int64_t initial = 0;               // before the first transition
  std::optional<PosixRule> footer;
};

namespace {

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t YearOfDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Seconds since the epoch of local midnight starting the rule's day in `year`, plus its time.
int64_t PosixDateLocalSeconds(const PosixDate& d, int64_t year) {
  int64_t day;
  if (d.kind == 'J') {
    day = DaysFromCivil(year, 1, 1) + d.a - 1 + (IsLeap(year) && d.a >= 60 ? 1 : 0);
  } else if (d.kind == 'N') {
    day = DaysFromCivil(year, 1, 1) + d.a;
  } else {
    const int64_t first = DaysFromCivil(year, d.a, 1);
    const int64_t first_wday = ((first % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4)
    int64_t mday = 1 + (d.c - first_wday + 7) % 7 + (d.b - 1) * 7;
    static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int64_t len = kMonthDays[d.a - 1] + (d.a == 2 && IsLeap(year) ? 1 : 0);
    while (mday > len) mday -= 7;
    day = first + mday - 1;
  }
  return day * 86400 + d.time;
}

int64_t PosixOffset(const PosixRule& r, int64_t t) {
  if (!r.has_dst) return r.std_off;
  const int64_t year = YearOfDays(FloorDiv(t + r.std_off, 86400));
  const int64_t start = PosixDateLocalSeconds(r.start, year) - r.std_off;
  const int64_t end = PosixDateLocalSeconds(r.end, year) - r.dst_off;
  const bool dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
  return dst ? r.dst_off : r.std_off;
}

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> Parse() {
    PosixRule r;
    if (!Name()) return std::nullopt;
    auto std_west = Offset();
    if (!std_west) return std::nullopt;
    r.std_off = -*std_west;
    if (pos_ == s_.size()) return r;
    if (!Name()) return std::nullopt;
    r.has_dst = true;
    r.dst_off = r.std_off + 3600;
    if (pos_ < s_.size() && s_[pos_] != ',') {
      auto dst_west = Offset();
      if (!dst_west) return std::nullopt;
      r.dst_off = -*dst_west;
    }
    if (pos_ == s_.size()) {  // POSIX's default rule: the US one
      r.start = PosixDate{'M', 3, 2, 0, 7200};
      r.end = PosixDate{'M', 11, 1, 0, 7200};
      return r;
    }
    if (!Eat(',') || !Date(&r.start) || !Eat(',') || !Date(&r.end)) return std::nullopt;
    if (pos_ != s_.size()) return std::nullopt;
    return r;
  }

 private:
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool Name() {
    if (Eat('<')) {
      size_t close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    size_t begin = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) ++pos_;
    return pos_ - begin >= 3;
  }

  std::optional<int64_t> Number() {
    size_t begin = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - begin < 4) v = v * 10 + (s_[pos_++] - '0');
    if (pos_ == begin) return std::nullopt;
    return v;
  }

  // [+-]hh[:mm[:ss]] in seconds (POSIX: positive west of Greenwich).
  std::optional<int64_t> Offset() {
    int64_t sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    auto h = Number();
    if (!h) return std::nullopt;
    int64_t secs = *h * 3600;
    if (Eat(':')) {
      auto m = Number();
      if (!m) return std::nullopt;
      secs += *m * 60;
      if (Eat(':')) {
        auto sec = Number();
        if (!sec) return std::nullopt;
        secs += *sec;
      }
    }
    return sign * secs;
  }

  bool Date(PosixDate* d) {
    if (Eat('M')) {
      auto m = Number();
      if (!m || !Eat('.')) return false;
      auto w = Number();
      if (!w || !Eat('.')) return false;
      auto wd = Number();
      if (!wd || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *wd > 6) return false;
      *d = PosixDate{'M', static_cast<int>(*m), static_cast<int>(*w), static_cast<int>(*wd), 7200};
    } else if (Eat('J')) {
      auto n = Number();
      if (!n || *n < 1 || *n > 365) return false;
      *d = PosixDate{'J', static_cast<int>(*n), 0, 0, 7200};
    } else {
      auto n = Number();
      if (!n || *n > 365) return false;
      *d = PosixDate{'N', static_cast<int>(*n), 0, 0, 7200};
    }
    if (Eat('/')) {
      auto t = Offset();
      if (!t) return false;
      d->time = *t;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool Has(size_t n) const { return b_.size() - pos_ >= n; }
  int64_t Be(size_t n) {  // big-endian signed integer of n bytes
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b_[pos_ + i]);
    pos_ += n;
    if (n < 8 && (v >> (n * 8 - 1)) & 1) v |= ~uint64_t{0} << (n * 8);
    return static_cast<int64_t>(v);
  }
  void Skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }
  std::string_view Rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

Status BadTzif(std::string_view why) { return Status(ErrorCodes::kFailedToParse, "invalid TZif data: " + std::string(why)); }

}  // namespace

StatusWith<std::shared_ptr<const ZoneRules>> ParseTzif(std::string_view bytes) {
  Reader r(bytes);
  struct Counts {
    int64_t isut, isstd, leap, time, type, chars;
  };
  auto header = [&](Counts* c, char* version) -> bool {
    if (!r.Has(44) || r.Rest().substr(0, 4) != "TZif") return false;
    r.Skip(4);
    *version = r.Rest()[0];
    r.Skip(16);
    c->isut = r.Be(4);
    c->isstd = r.Be(4);
    c->leap = r.Be(4);
    c->time = r.Be(4);
    c->type = r.Be(4);
    c->chars = r.Be(4);
    return c->isut >= 0 && c->isstd >= 0 && c->leap >= 0 && c->time >= 0 && c->type > 0 && c->chars >= 0 &&
           c->time < 1'000'000 && c->type < 256 && c->chars < 1'000'000 && c->leap < 1'000'000;
  };
  auto block_size = [](const Counts& c, size_t time_size) {
    return static_cast<size_t>(c.time * time_size + c.time + c.type * 6 + c.chars + c.leap * (time_size + 4) +
                               c.isstd + c.isut);
  };
  Counts c{};
  char version = 0;
  if (!header(&c, &version)) return BadTzif("header");
  size_t time_size = 4;
  if (version >= '2') {
    if (!r.Has(block_size(c, 4))) return BadTzif("truncated v1 block");
    r.Skip(block_size(c, 4));
    if (!header(&c, &version)) return BadTzif("v2 header");
    time_size = 8;
  }
  if (!r.Has(block_size(c, time_size))) return BadTzif("truncated data block");
  auto rules = std::make_shared<ZoneRules>();
  rules->transitions.resize(c.time);
  for (auto& t : rules->transitions) t = r.Be(time_size);
  std::vector<int> type_of(c.time);
  for (auto& t : type_of) t = static_cast<int>(r.Be(1) & 0xff);
  std::vector<int64_t> type_off(c.type);
  for (auto& off : type_off) {
    off = r.Be(4);
    r.Skip(2);  // isdst, abbreviation index
  }
  r.Skip(c.chars + c.leap * (time_size + 4) + c.isstd + c.isut);
  rules->offsets.resize(c.time);
  for (size_t i = 0; i < type_of.size(); ++i) {
    if (type_of[i] >= c.type) return BadTzif("transition type out of range");
    rules->offsets[i] = type_off[type_of[i]];
  }
  if (!std::is_sorted(rules->transitions.begin(), rules->transitions.end())) return BadTzif("unsorted transitions");
  rules->initial = type_off[0];
  if (time_size == 8) {
    std::string_view rest = r.Rest();
    if (rest.size() >= 2 && rest[0] == '\n') {
      size_t end = rest.find('\n', 1);
      if (end != std::string_view::npos && end > 1) {
        rules->footer = PosixParser(rest.substr(1, end - 1)).Parse();
      }
    }
  }
  return std::shared_ptr<const ZoneRules>(std::move(rules));
}

int64_t ZoneOffsetSeconds(const ZoneRules& rules, int64_t t) {
  const auto& tr = rules.transitions;
  if (tr.empty()) return rules.footer ? PosixOffset(*rules.footer, t) : rules.initial;
  if (t < tr.front()) return rules.initial;
  if (t >= tr.back() && rules.footer) return PosixOffset(*rules.footer, t);
  size_t i = std::upper_bound(tr.begin(), tr.end(), t) - tr.begin() - 1;
  return rules.offsets[i];
}

StatusWith<int64_t> ParseUtcOffset(std::string_view tz) {
  if (tz == "UTC" || tz == "GMT" || tz == "Z" || tz == "Etc/UTC" || tz == "Etc/GMT") return int64_t{0};
  if (!tz.empty() && (tz[0] == '+' || tz[0] == '-')) {
    std::string digits;
    for (char c : tz.substr(1)) {
      if (c != ':') digits += c;
    }
    bool ok = (digits.size() == 2 || digits.size() == 4);
    for (char c : digits) ok = ok && c >= '0' && c <= '9';
    if (ok) {
      int h = (digits[0] - '0') * 10 + (digits[1] - '0');
      int m = digits.size() == 4 ? (digits[2] - '0') * 10 + (digits[3] - '0') : 0;
      int64_t off = (h * 60 + m) * 60000LL;
      return tz[0] == '-' ? -off : off;
    }
  }
  return Status(40485, "unrecognized time zone identifier: \"" + std::string(tz) + "\"");
}

namespace {

bool IsSafeZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '+' || c == '/';
    if (!ok) return false;
  }
  // No "." or ".." components can appear: '.' is not an allowed character at all.
  return name.find("//") == std::string_view::npos;
}

std::shared_ptr<const ZoneRules> LoadZone(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const ZoneRules>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  std::shared_ptr<const ZoneRules> rules;
  if (in) {
    std::ostringstream buf;
    buf << in.rdbuf();
    auto parsed = ParseTzif(buf.str());
    if (parsed.ok()) rules = parsed.value();
  }
  // Misses are cached too, so a client cannot make every evaluation touch the disk.
  if (cache.size() < 4096) cache.emplace(std::string(name), rules);
  return rules;
}

}  // namespace

StatusWith<TimeZone> TimeZone::Parse(std::string_view spec) {
  auto fixed = ParseUtcOffset(spec);
  if (fixed.ok()) return FixedOffset(fixed.value());
  if (!IsSafeZoneName(spec)) return fixed.status();
  auto rules = LoadZone(spec);
  if (!rules) return fixed.status();
  TimeZone tz;
  tz.rules_ = std::move(rules);
  return tz;
}

TimeZone TimeZone::FixedOffset(int64_t offset_millis) {
  TimeZone tz;
  tz.fixed_ = offset_millis;
  return tz;
}

int64_t TimeZone::OffsetAt(int64_t utc_millis) const {
  if (!rules_) return fixed_;
  return ZoneOffsetSeconds(*rules_, FloorDiv(utc_millis, 1000)) * 1000;
}

int64_t TimeZone::ToUtc(int64_t local_millis) const {
  if (!rules_) return local_millis - fixed_;
  // Try the offset in force a day before and a day after; the earlier valid reading wins.
  const int64_t before = OffsetAt(local_millis - 86400000LL);
  const int64_t after = OffsetAt(local_millis + 86400000LL);
  for (int64_t off : {before, after}) {
    if (OffsetAt(local_millis - off) == off) return local_millis - off;
  }
  return local_millis - before;  // in a gap: read with the offset before the jump
}

}  // namespace brook::query
