#include "watch/fast_json.h"

#include <gtest/gtest.h>

#include <random>

#include "watch/bson_util.h"

namespace brook::watch {
namespace {

std::string Libbson(const bson_t* d) { return ToExtJson(d, JsonFormat::kRelaxed); }
std::string Fast(const bson_t* d) {
  std::string s;
  AppendRelaxedJson(d, &s);
  return s;
}

void AppendRandom(bson_t* b, const char* key, std::mt19937* rng, int depth);

void FillRandom(bson_t* b, std::mt19937* rng, int depth, bool array) {
  int n = std::uniform_int_distribution<int>(0, 5)(*rng);
  for (int k = 0; k < n; ++k) {
    std::string key = array ? std::to_string(k) : (k % 4 == 3 ? std::string("k\"\xc3\xa9\n") : "k" + std::to_string(k));
    AppendRandom(b, key.c_str(), rng, depth);
  }
}

void AppendRandom(bson_t* b, const char* key, std::mt19937* rng, int depth) {
  int kind = std::uniform_int_distribution<int>(0, 18)(*rng);
  if (depth > 3 && kind >= 12 && kind <= 15) kind = 0;
  switch (kind) {
    case 0: BSON_APPEND_UTF8(b, key, "plain text 123"); break;
    case 1: BSON_APPEND_UTF8(b, key, "esc \" \\ \n \t \x01 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); break;
    case 2: BSON_APPEND_INT32(b, key, static_cast<int32_t>((*rng)()) ); break;
    case 3: BSON_APPEND_INT64(b, key, static_cast<int64_t>((*rng)()) * -977); break;
    case 4: BSON_APPEND_BOOL(b, key, (*rng)() & 1); break;
    case 5: BSON_APPEND_NULL(b, key); break;
    case 6: BSON_APPEND_TIMESTAMP(b, key, (*rng)(), (*rng)()); break;
    case 7: {
      bson_oid_t oid;
      bson_oid_init(&oid, nullptr);
      BSON_APPEND_OID(b, key, &oid);
      break;
    }
    case 8: BSON_APPEND_DOUBLE(b, key, static_cast<double>((*rng)()) / 7.0); break;
    case 9: BSON_APPEND_DATE_TIME(b, key, static_cast<int64_t>((*rng)()) * 1000 - 5000); break;
    case 10: BSON_APPEND_BINARY(b, key, BSON_SUBTYPE_BINARY, reinterpret_cast<const uint8_t*>("\x01\x02"), 2); break;
    case 11: BSON_APPEND_UTF8(b, key, ""); break;
    // Dates with milliseconds, across leap years and centuries, and around year 10000.
    case 16: BSON_APPEND_DATE_TIME(b, key, static_cast<int64_t>((*rng)()) * 59999 + (*rng)() % 1000); break;
    case 17: BSON_APPEND_DATE_TIME(b, key, 253402300800000 + static_cast<int64_t>((*rng)() % 2001) - 1000); break;
    case 18: {
      // Strings of 0..100 bytes with one byte around the escaping bounds (", \\, 0x01,
      // 0x7f need it; '~' and ' ' do not) somewhere: the word-at-a-time test's edges.
      std::string s(static_cast<size_t>(std::uniform_int_distribution<int>(0, 100)(*rng)), 'a');
      if (!s.empty() && ((*rng)() & 1)) s[(*rng)() % s.size()] = "\"\\\x01\x7f~ "[(*rng)() % 6];
      if (s.size() >= 2 && (*rng)() % 4 == 0) s.replace((*rng)() % (s.size() - 1), 2, "\xc3\xa9");  // >= 0x80
      BSON_APPEND_UTF8(b, key, s.c_str());
      break;
    }
    case 12:
    case 13: {
      bson_t child;
      BSON_APPEND_DOCUMENT_BEGIN(b, key, &child);
      FillRandom(&child, rng, depth + 1, false);
      bson_append_document_end(b, &child);
      break;
    }
    case 14:
    case 15: {
      bson_t child;
      BSON_APPEND_ARRAY_BEGIN(b, key, &child);
      FillRandom(&child, rng, depth + 1, true);
      bson_append_array_end(b, &child);
      break;
    }
  }
}

TEST(FastJson, MatchesLibbsonOnTypicalEvents) {
  std::string err;
  BsonDoc ev = BsonDoc::FromJson(
      R"({"_id": {"_data": "8265"}, "operationType": "update", "clusterTime": {"$timestamp": {"t": 1700000000, "i": 3}},
          "wallTime": {"$date": "2024-01-02T03:04:05.123Z"}, "ns": {"db": "shop", "coll": "orders"},
          "documentKey": {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}},
          "updateDescription": {"updatedFields": {"n": 5, "x": 1.5, "s": "a\"b"}, "removedFields": [], "truncatedArrays": []},
          "fullDocument": {"n": {"$numberLong": "9007199254740993"}, "e": {}, "a": [1, [], {}], "neg": -7}})",
      &err);
  ASSERT_FALSE(ev.IsEmpty()) << err;
  EXPECT_EQ(Fast(ev.get()), Libbson(ev.get()));
  BsonDoc empty = BsonDoc::New();
  EXPECT_EQ(Fast(empty.get()), Libbson(empty.get()));
}

TEST(FastJson, MatchesLibbsonOnRandomDocuments) {
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    BsonDoc d = BsonDoc::New();
    FillRandom(d.mut(), &rng, 0, false);
    ASSERT_EQ(Fast(d.get()), Libbson(d.get())) << "document " << i;
  }
}

}  // namespace
}  // namespace brook::watch
