// RFC 4013 section 3 examples and the driver spec's SCRAM-SHA-256 SASLprep cases.
#include <gtest/gtest.h>

#include "auth/saslprep.h"

namespace brook::auth {
namespace {

std::string Prep(std::string_view s) {
  auto r = SaslPrep(s);
  return r.ok() ? r.value() : "<error " + r.status().reason() + ">";
}

TEST(SaslPrep, Rfc4013Examples) {
  EXPECT_EQ(Prep("I\u00ADX"), "IX");        // soft hyphen mapped to nothing
  EXPECT_EQ(Prep("user"), "user");
  EXPECT_EQ(Prep("USER"), "USER");           // no case folding
  EXPECT_EQ(Prep("\u00AA"), "a");            // NFKC
  EXPECT_EQ(Prep("\u2168"), "IX");           // NFKC
  EXPECT_FALSE(SaslPrep("\x07").ok());       // prohibited
  EXPECT_FALSE(SaslPrep("\u0627\x31").ok()); // bidi: RandAL must end the string
}

TEST(SaslPrep, DriverSpecPasswords) {
  EXPECT_EQ(Prep("I\u00ADV"), "IV");
  EXPECT_EQ(Prep("\u2163"), "IV");
  EXPECT_EQ(Prep("IV"), "IV");
}

TEST(SaslPrep, SpacesCompositionAndErrors) {
  EXPECT_EQ(Prep("a\u00A0b"), "a b");        // non-ASCII space to SPACE
  EXPECT_EQ(Prep("a\u2003b"), "a b");
  EXPECT_EQ(Prep("e\u0301"), "\u00E9");      // canonical composition
  EXPECT_EQ(Prep("\u00E9"), "\u00E9");
  EXPECT_EQ(Prep("\uFB01x"), "fix");
  EXPECT_EQ(Prep("\uFF21"), "A");
  EXPECT_EQ(Prep("\u0627\u0628"), "\u0627\u0628");  // all RandAL is fine
  EXPECT_FALSE(SaslPrep("\u0627a\u0628").ok());     // RandAL mixed with L
  EXPECT_FALSE(SaslPrep("a\u200Eb").ok());          // C.8 change display property
  EXPECT_FALSE(SaslPrep("\xC3").ok());              // truncated UTF-8
  EXPECT_FALSE(SaslPrep("\xC0\x80").ok());          // overlong
  EXPECT_FALSE(SaslPrep("\xED\xA0\x80").ok());      // surrogate
  EXPECT_FALSE(SaslPrep("a\xEE\x80\x80").ok());     // private use (C.3)
  EXPECT_EQ(Prep(""), "");
}

// NFKC cases beyond Latin-1 (expected values from Unicode 3.2's NFKC).
TEST(SaslPrep, FullNfkc) {
  EXPECT_EQ(Prep("\u1100\u1161"), "\uAC00");            // Hangul L+V
  EXPECT_EQ(Prep("\u1100\u1161\u11A8"), "\uAC01");      // Hangul L+V+T
  EXPECT_EQ(Prep("\uAC00\u11A8"), "\uAC01");             // LV+T
  EXPECT_EQ(Prep("\u1E9B\u0323"), "\u1E69");             // compatibility + reordering
  EXPECT_EQ(Prep("a\u0307\u0323"), "\u1EA1\u0307");     // marks reordered, one composes
  EXPECT_EQ(Prep("\u212B"), "\u00C5");                    // singleton decomposition
  EXPECT_EQ(Prep("A\u030A\u0301"), "\u01FA");            // composes twice
  EXPECT_EQ(Prep("\u00C5\u0301"), "\u01FA");
  EXPECT_EQ(Prep("\u3300"), "\u30A2\u30D1\u30FC\u30C8");  // squared katakana
  EXPECT_EQ(Prep("\uFF76\uFF9E"), "\u30AC");             // halfwidth kana + voiced mark
  EXPECT_EQ(Prep("x\u0301\u0301"), "x\u0301\u0301");    // nothing to compose with
}

}  // namespace
}  // namespace brook::auth
