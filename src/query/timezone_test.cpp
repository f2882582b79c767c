// TZif parsing and POSIX footer rules on synthetic files, and that no byte string can
// crash the parser (zone files are read from disk, but a damaged tzdata must not take
// brookd down).
#include "query/timezone.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace brook::query {
namespace {

void PutBe(std::string* out, int64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

// A version-2 TZif file: an empty v1 block, then the 64-bit data and the footer.
std::string MakeTzif(const std::vector<int64_t>& transitions, const std::vector<int>& type_of,
                     const std::vector<int32_t>& type_offsets, const std::string& footer) {
  auto header = [](std::string* out, int64_t timecnt, int64_t typecnt, int64_t charcnt) {
    out->append("TZif2");
    out->append(15, '\0');
    for (int64_t c : {int64_t{0}, int64_t{0}, int64_t{0}, timecnt, typecnt, charcnt}) PutBe(out, c, 4);
  };
  std::string out;
  header(&out, 0, 1, 1);
  out.append(6, '\0');  // one ttinfo
  out.push_back('\0');  // one designation byte
  header(&out, static_cast<int64_t>(transitions.size()), static_cast<int64_t>(type_offsets.size()), 1);
  for (int64_t t : transitions) PutBe(&out, t, 8);
  for (int t : type_of) out.push_back(static_cast<char>(t));
  for (int32_t off : type_offsets) {
    PutBe(&out, off, 4);
    out.push_back('\0');
    out.push_back('\0');
  }
  out.push_back('\0');
  out += "\n" + footer + "\n";
  return out;
}

int64_t OffsetAt(const std::string& tzif, int64_t t) {
  auto rules = ParseTzif(tzif);
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  return rules.ok() ? ZoneOffsetSeconds(*rules.value(), t) : -1;
}

TEST(TimeZoneTest, TransitionsPickTheOffsetInForce) {
  std::string f = MakeTzif({1000, 2000}, {1, 0}, {3600, 7200}, "");
  EXPECT_EQ(OffsetAt(f, 0), 3600);  // before the first transition: type 0
  EXPECT_EQ(OffsetAt(f, 999), 3600);
  EXPECT_EQ(OffsetAt(f, 1000), 7200);
  EXPECT_EQ(OffsetAt(f, 1999), 7200);
  EXPECT_EQ(OffsetAt(f, 2000), 3600);
  EXPECT_EQ(OffsetAt(f, 1'000'000), 3600);
}

TEST(TimeZoneTest, FooterRuleAfterTheLastTransition) {
  // Central European rules: DST from the last Sunday of March 01:00Z to the last Sunday of
  // October 01:00Z; in 2030 those are March 31 and October 27.
  std::string f = MakeTzif({}, {}, {3600}, "CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ(OffsetAt(f, 1893456000), 3600);      // 2030-01-01
  EXPECT_EQ(OffsetAt(f, 1909094400), 7200);      // 2030-07-01
  EXPECT_EQ(OffsetAt(f, 1901149200 - 1), 3600);  // just before spring forward
  EXPECT_EQ(OffsetAt(f, 1901149200), 7200);
  EXPECT_EQ(OffsetAt(f, 1919293200 - 1), 7200);  // just before fall back
  EXPECT_EQ(OffsetAt(f, 1919293200), 3600);
}

TEST(TimeZoneTest, SouthernHemisphereAndOddFooters) {
  std::string sydney = MakeTzif({}, {}, {36000}, "AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(OffsetAt(sydney, 1893456000), 39600);  // January: summer
  EXPECT_EQ(OffsetAt(sydney, 1909094400), 36000);  // July: winter
  EXPECT_EQ(OffsetAt(MakeTzif({}, {}, {0}, "<+0330>-3:30"), 1893456000), 12600);
  EXPECT_EQ(OffsetAt(MakeTzif({}, {}, {0}, "<-03>3"), 1893456000), -10800);
  // A footer that does not parse leaves the last transition's offset in force.
  EXPECT_EQ(OffsetAt(MakeTzif({10}, {0}, {-18000}, "EST5EDT,garbage"), 1893456000), -18000);
}

TEST(TimeZoneTest, ParseAcceptsOffsetsAndRejectsUnsafeNames) {
  auto fixed = TimeZone::Parse("-07:30");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed.value().OffsetAt(0), -(7 * 60 + 30) * 60000LL);
  EXPECT_EQ(fixed.value().ToUtc(0), (7 * 60 + 30) * 60000LL);
  EXPECT_TRUE(TimeZone::Parse("UTC").value().IsUtc());
  for (const char* bad : {"", "../etc/passwd", "/etc/localtime", "Europe/../Europe/Paris", "Europe//Paris",
                          "+1", "+123", "Europe/Paris\n"}) {
    auto tz = TimeZone::Parse(bad);
    ASSERT_FALSE(tz.ok()) << bad;
    EXPECT_EQ(tz.status().code(), 40485) << bad;
  }
}

TEST(TimeZoneTest, ArbitraryBytesNeverCrashTheParser) {
  std::mt19937_64 rng(42);
  std::string valid = MakeTzif({1000, 2000}, {1, 0}, {3600, 7200}, "CET-1CEST,M3.5.0,M10.5.0/3");
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    // Truncate and flip bytes of a valid file so the parser sees plausible headers.
    bytes.resize(rng() % (bytes.size() + 1));
    for (int flips = rng() % 4; flips > 0 && !bytes.empty(); --flips) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto rules = ParseTzif(bytes);
    if (rules.ok()) {
      ++parsed;
      ZoneOffsetSeconds(*rules.value(), static_cast<int64_t>(rng() % 4'000'000'000ULL));
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace brook::query
