#include "changestream/resume_token.h"

#include <gtest/gtest.h>

#include "bson/builder.h"
#include "bson/json.h"
#include "storage/key_string.h"

namespace brook::changestream {
namespace {

bson::Doc J(std::string_view json) { return std::move(bson::FromJson(json).value()); }

ResumeTokenData EventData(bson::Timestamp ts, int32_t txn_op_index, int id) {
  ResumeTokenData d;
  d.cluster_time = ts;
  d.txn_op_index = txn_op_index;
  d.uuid = CollectionUuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  d.event_identifier = J(R"({"operationType": "insert", "documentKey": {"_id": )" + std::to_string(id) + "}}");
  return d;
}

TEST(ResumeTokenTest, MatchesMongoDBsBytesForAVersion1Token) {
  // Token from MongoDB 5.0 (mongodb-resumetoken-decoder's documentation).
  ResumeTokenData d;
  d.cluster_time = {1630438675, 1};
  d.version = 1;
  d.uuid = CollectionUuid{0xA5, 0x09, 0x3A, 0xBB, 0x38, 0xFE, 0x4B, 0x9E, 0xA6, 0x7F, 0x01, 0xBB, 0x1A, 0x96, 0xD8, 0x12};
  d.event_identifier = J(R"({"_id": "___x"})");
  EXPECT_EQ(ResumeToken::FromData(d).Hex(),
            "82612E8513000000012B022C0100296E5A1004A5093ABB38FE4B9EA67F01BB1A96D812463C5F6964003C5F5F5F78000004");
}

// FromData as it was first written: the fields through a BSON document, each encoded by
// AppendKeyString. FromData now encodes field by field without the document; the bytes
// must not change (saved tokens and MongoDB's tools read them).
std::string ReferenceKeyString(const ResumeTokenData& data) {
  bson::Builder b;
  b.AppendTimestamp("", data.cluster_time);
  b.AppendInt32("", data.version);
  if (data.version >= 1) b.AppendInt32("", static_cast<int32_t>(data.type));
  b.AppendInt32("", data.txn_op_index);
  if (data.version >= 1) b.AppendBool("", data.from_invalidate);
  if (data.uuid) {
    b.AppendBinary("", 4, std::string_view(reinterpret_cast<const char*>(data.uuid->data()), 16));
  } else if (data.version >= 2) {
    b.AppendNull("");
  }
  if (data.event_identifier) b.AppendDocument("", *data.event_identifier);
  if (data.fragment_num) b.AppendInt32("", *data.fragment_num);
  bson::Doc fields = b.Done();
  std::string ks;
  for (const auto& e : fields) storage::AppendKeyString(e, false, &ks);
  storage::AppendKeyStringEnd(&ks);
  return ks;
}

TEST(ResumeTokenTest, EncodesTheSameBytesAsThroughADocument) {
  const std::optional<bson::Doc> identifiers[] = {
      std::nullopt,
      J(R"({"operationType": "insert", "documentKey": {"_id": 5}})"),
      J(R"({"operationType": "update", "documentKey": {"_id": {"a": [1, "x", null]}, "k": -2.5}})"),
      J(R"({"operationType": "drop"})"),
  };
  int checked = 0;
  for (int32_t version : {0, 1, 2}) {
    for (auto type : {ResumeTokenData::Type::kEvent, ResumeTokenData::Type::kHighWaterMark}) {
      for (int32_t txn_op_index : {0, 1, 300, 2147483647}) {
        for (bool from_invalidate : {false, true}) {
          for (bool with_uuid : {false, true}) {
            for (const auto& identifier : identifiers) {
              for (std::optional<int32_t> fragment : {std::optional<int32_t>(), std::optional<int32_t>(3)}) {
                ResumeTokenData d;
                d.cluster_time = {1700000000u + static_cast<uint32_t>(txn_op_index % 7), 42};
                d.version = version;
                d.type = type;
                d.txn_op_index = txn_op_index;
                d.from_invalidate = from_invalidate;
                if (with_uuid) d.uuid = CollectionUuid{0, 255, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 128};
                d.event_identifier = identifier;
                d.fragment_num = fragment;
                ASSERT_EQ(ResumeToken::FromData(d).keystring(), ReferenceKeyString(d))
                    << "version " << version << " txnOpIndex " << txn_op_index;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 2 * 4 * 2 * 2 * 4 * 2);
}

TEST(ResumeTokenTest, TheDocumentFormIsWrittenInPlaceAsWell) {
  ResumeToken token = ResumeToken::FromData(EventData({100, 7}, 3, 42));
  bson::Builder b;
  token.AppendAsDocument(&b, "_id");
  bson::Builder expected;
  expected.AppendDocument("_id", token.ToDocument());
  EXPECT_EQ(b.Done().bytes(), expected.Done().bytes());
}

TEST(ResumeTokenTest, RoundTripsThroughTheDocumentForm) {
  ResumeTokenData d = EventData({100, 7}, 3, 42);
  d.fragment_num = 2;
  ResumeToken token = ResumeToken::FromData(d);
  auto parsed = ResumeToken::Parse(token.ToDocument());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value(), token);
  auto back = parsed.value().Decode();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value().cluster_time, (bson::Timestamp{100, 7}));
  EXPECT_EQ(back.value().version, 2);
  EXPECT_EQ(back.value().type, ResumeTokenData::Type::kEvent);
  EXPECT_EQ(back.value().txn_op_index, 3);
  EXPECT_EQ(back.value().uuid, d.uuid);
  EXPECT_EQ(back.value().event_identifier->view().GetPath("documentKey._id").Int32(), 42);
  EXPECT_EQ(back.value().fragment_num, 2);
}

TEST(ResumeTokenTest, HighWaterMarksDecodeWithoutIdentifier) {
  auto data = ResumeToken::HighWaterMark({55, 0}).Decode();
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data.value().type, ResumeTokenData::Type::kHighWaterMark);
  EXPECT_FALSE(data.value().uuid.has_value());
  EXPECT_FALSE(data.value().event_identifier.has_value());
}

TEST(ResumeTokenTest, OrderFollowsClusterTimeThenTxnOpIndexThenDocumentKey) {
  std::vector<ResumeToken> ordered = {
      ResumeToken::HighWaterMark({10, 0}),
      ResumeToken::FromData(EventData({10, 1}, 0, 5)),
      ResumeToken::FromData(EventData({10, 1}, 1, 1)),
      ResumeToken::FromData(EventData({10, 2}, 0, 1)),
      ResumeToken::FromData(EventData({10, 2}, 0, 2)),
      ResumeToken::HighWaterMark({11, 0}),
  };
  for (size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_LT(ordered[i].Compare(ordered[i + 1]), 0) << i;
  }
}

// Found by fuzz/resume_token_fuzz: a version 0 token (cluster time, version, txnOpIndex:
// no tokenType, no fromInvalidate) decoded fine but re-encoded with the v1 fields, into a
// token Decode rejects; a stream resumed from it returned that as its first
// postBatchResumeToken.
TEST(ResumeTokenTest, Version0TokensReencodeToThemselves) {
  bson::Builder b;
  b.AppendString("_data", "822B022E06002C01002929");  // the fuzzer's input: ts, 0, 0
  auto token = ResumeToken::Parse(b.Done());
  ASSERT_TRUE(token.ok());
  auto data = token.value().Decode();
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data.value().version, 0);
  ResumeToken again = ResumeToken::FromData(data.value());
  EXPECT_EQ(again.Hex(), "822B022E06002C0100292904");  // plus the end byte
  auto redecoded = again.Decode();
  ASSERT_TRUE(redecoded.ok()) << redecoded.status().ToString();
  EXPECT_EQ(redecoded.value().cluster_time.AsUint64(), data.value().cluster_time.AsUint64());
}

TEST(ResumeTokenTest, BadTokensGetMongoDBsErrors) {
  EXPECT_EQ(ResumeToken::Parse(J(R"({"x": 1})")).status().code(), 40647);
  EXPECT_EQ(ResumeToken::Parse(J(R"({"_data": 5})")).status().code(), 40647);
  EXPECT_EQ(ResumeToken::Parse(J(R"({"_data": "zz"})")).status().code(), 9);
  EXPECT_EQ(ResumeToken::Parse(J(R"({"_data": "abc"})")).status().code(), 9);
  EXPECT_EQ(ResumeToken::Parse(J(R"({"_data": "00", "_typeBits": "x"})")).status().code(), 40648);
  auto empty = ResumeToken::Parse(J(R"({"_data": ""})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value().Decode().status().code(), 40649);
  // A timestamp, then version 7.
  auto bad_version = ResumeToken::Parse(J(R"({"_data": "8200000001000000012B0E04"})"));
  ASSERT_TRUE(bad_version.ok());
  EXPECT_EQ(bad_version.value().Decode().status().code(), 50795);
}

}  // namespace
}  // namespace brook::changestream
