#include "wire/message.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "bson/builder.h"
#include "bson/json.h"
#include "wire/crc32c.h"

namespace brook::wire {
namespace {

bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json;
  return std::move(d).value();
}

TEST(Header, RoundTripAndLimits) {
  char buf[kHeaderSize];
  WriteHeader({100, 7, 3, 2013}, buf);
  auto h = ParseHeader(std::string_view(buf, kHeaderSize));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->message_length, 100);
  EXPECT_EQ(h->request_id, 7);
  EXPECT_EQ(h->response_to, 3);
  EXPECT_EQ(h->op_code, 2013);

  for (int32_t bad_len : {-1, 0, 16, kMaxMessageSizeBytes + 1}) {
    WriteHeader({bad_len, 1, 0, 2013}, buf);
    auto r = ParseHeader(std::string_view(buf, kHeaderSize));
    EXPECT_FALSE(r.ok()) << bad_len;
    EXPECT_EQ(r.status().code(), static_cast<int>(ErrorCodes::kProtocolError));
  }
  for (int32_t bad_op : {1, 2001, 2005, 9999}) {
    WriteHeader({100, 1, 0, bad_op}, buf);
    EXPECT_FALSE(ParseHeader(std::string_view(buf, kHeaderSize)).ok()) << bad_op;
  }
  EXPECT_FALSE(ParseHeader(std::string_view(buf, 10)).ok());
}

TEST(OpMsg, BodyRoundTrip) {
  auto body = J(R"({"ping": 1, "$db": "admin"})");
  std::string frame = BuildOpMsg(5, 0, 0, body);
  auto h = ParseHeader(frame);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->message_length, static_cast<int32_t>(frame.size()));
  auto msg = ParseOpMsg(frame);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_TRUE(bson::BinaryEqual(msg->body, body));
  EXPECT_FALSE(msg->more_to_come());
}

TEST(OpMsg, ChecksumVerifiedAndAppended) {
  auto body = J(R"({"ping": 1, "$db": "admin"})");
  std::string frame = BuildOpMsg(5, 0, kChecksumPresent, body);
  uint32_t stored = static_cast<uint32_t>(ReadLE32(frame.data() + frame.size() - 4));
  EXPECT_EQ(stored, Crc32c(frame.data(), frame.size() - 4));
  auto ok = ParseOpMsg(frame);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->checksum_present());

  std::string corrupt = frame;
  corrupt[kHeaderSize + 10] ^= 0x01;  // a byte inside the body
  auto bad = ParseOpMsg(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), static_cast<int>(ErrorCodes::kChecksumMismatch));
}

TEST(OpMsg, UnknownRequiredFlagsRejectedOptionalIgnored) {
  auto body = J(R"({"ping": 1})");
  auto bad = ParseOpMsg(BuildOpMsg(1, 0, 1u << 5, body));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), static_cast<int>(ErrorCodes::kIllegalOpMsgFlag));
  auto ok = ParseOpMsg(BuildOpMsg(1, 0, kExhaustAllowed | (1u << 20) | kMoreToCome, body));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->exhaust_allowed());
  EXPECT_TRUE(ok->more_to_come());
}

TEST(OpMsg, SequencesMergedIntoBody) {
  auto body = J(R"({"insert": "c", "$db": "test"})");
  auto d1 = J(R"({"_id": 1})");
  auto d2 = J(R"({"_id": 2, "x": "y"})");
  std::string frame = BuildOpMsgWithSequence(1, 0, 0, body, "documents", {d1, d2});
  auto msg = ParseOpMsg(frame);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto want = J(R"({"insert": "c", "$db": "test", "documents": [{"_id": 1}, {"_id": 2, "x": "y"}]})");
  EXPECT_TRUE(bson::BinaryEqual(msg->body, want)) << msg->body.ToString();

  // Empty sequence gives an empty array.
  auto empty = ParseOpMsg(BuildOpMsgWithSequence(1, 0, 0, body, "documents", {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->body["documents"].IsArray());
  EXPECT_TRUE(empty->body["documents"].Obj().empty());
}

TEST(OpMsg, SequenceNameClashingWithBodyIsRejected) {
  auto body = J(R"({"insert": "c", "documents": []})");
  auto d1 = J(R"({"_id": 1})");
  auto r = ParseOpMsg(BuildOpMsgWithSequence(1, 0, 0, body, "documents", {d1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 40433);
}

// Appends raw section bytes to a header+flags prefix and fixes the length.
std::string RawMsg(const std::string& sections) {
  std::string f(kHeaderSize + 4, '\0');
  f += sections;
  WriteHeader({static_cast<int32_t>(f.size()), 1, 0, 2013}, f.data());
  return f;
}

TEST(OpMsg, HostileSections) {
  auto body = J(R"({"ping": 1})");
  std::string b(body.bytes());

  // No body.
  EXPECT_EQ(ParseOpMsg(RawMsg("")).status().code(), 40587);
  // Two bodies.
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + b + std::string(1, '\0') + b)).status().code(), 40430);
  // Unknown kind.
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string("\x02", 1) + b)).status().code(), 40432);
  // Body length that lies (claims more than present).
  std::string lying = b;
  WriteLE32(lying.data(), 1000);
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + lying)).status().code(),
            static_cast<int>(ErrorCodes::kInvalidBSON));
  // Body that is well-sized but malformed inside (bad terminator).
  std::string bad_inner = b;
  bad_inner.back() = 'x';
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + bad_inner)).status().code(),
            static_cast<int>(ErrorCodes::kInvalidBSON));
  // Truncated body.
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + b.substr(0, 3))).status().code(),
            static_cast<int>(ErrorCodes::kInvalidBSON));

  // Sequence whose size overruns the message.
  std::string seq = "\x01";
  char sz[4];
  WriteLE32(sz, 5000);
  seq.append(sz, 4);
  seq += "documents";
  seq.push_back('\0');
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + b + seq)).status().code(),
            static_cast<int>(ErrorCodes::kProtocolError));
  // Sequence with an unterminated identifier.
  std::string seq2 = "\x01";
  WriteLE32(sz, 4 + 3);
  seq2.append(sz, 4);
  seq2 += "abc";
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + b + seq2)).status().code(),
            static_cast<int>(ErrorCodes::kProtocolError));
  // Sequence with a truncated document inside.
  std::string seq3 = "\x01";
  WriteLE32(sz, static_cast<int32_t>(4 + 2 + 3));
  seq3.append(sz, 4);
  seq3 += "d";
  seq3.push_back('\0');
  seq3 += b.substr(0, 3);
  EXPECT_EQ(ParseOpMsg(RawMsg(std::string(1, '\0') + b + seq3)).status().code(),
            static_cast<int>(ErrorCodes::kInvalidBSON));
  // Duplicate sequences.
  auto d1 = J(R"({"_id": 1})");
  std::string one_seq = BuildOpMsgWithSequence(1, 0, 0, body, "d", {d1}).substr(kHeaderSize + 4);
  std::string seq_only = one_seq.substr(1 + b.size());
  EXPECT_EQ(ParseOpMsg(RawMsg(one_seq + seq_only)).status().code(), 40431);
  // Too short for flags.
  std::string tiny(kHeaderSize + 2, '\0');
  EXPECT_FALSE(ParseOpMsg(tiny).ok());
  // Checksum flag on a message too short to hold one.
  std::string short_ck(kHeaderSize + 4, '\0');
  WriteLE32(short_ck.data() + kHeaderSize, 1);
  WriteLE32(short_ck.data(), static_cast<int32_t>(short_ck.size()));
  EXPECT_FALSE(ParseOpMsg(short_ck).ok());
}

TEST(OpMsg, EveryTruncationFailsCleanly) {
  auto body = J(R"({"insert": "c", "$db": "test"})");
  auto d1 = J(R"({"_id": 1, "s": "hello"})");
  std::string frame = BuildOpMsgWithSequence(1, 0, kChecksumPresent, body, "documents", {d1, d1});
  ASSERT_TRUE(ParseOpMsg(frame).ok());
  for (size_t n = 0; n < frame.size(); ++n) {
    std::string cut = frame.substr(0, n);
    EXPECT_FALSE(ParseOpMsg(cut).ok()) << n;
    // Also with the header's length patched to match, so the sections themselves are
    // what is cut short.
    if (n >= static_cast<size_t>(kHeaderSize)) {
      WriteLE32(cut.data(), static_cast<int32_t>(n));
      EXPECT_FALSE(ParseOpMsg(cut).ok()) << n;
    }
  }
  std::string plain = BuildOpMsgWithSequence(1, 0, 0, body, "documents", {d1, d1});
  size_t body_end = kHeaderSize + 4 + 1 + body.size();
  for (size_t n = kHeaderSize + 4; n < plain.size(); ++n) {
    std::string cut = plain.substr(0, n);
    EXPECT_FALSE(ParseOpMsg(cut).ok()) << n;
    WriteLE32(cut.data(), static_cast<int32_t>(n));
    // Cut exactly after the body is a valid message without the sequence.
    EXPECT_EQ(ParseOpMsg(cut).ok(), n == body_end) << n;
  }
}

TEST(OpQuery, HandshakeRoundTrip) {
  auto q = J(R"({"isMaster": 1, "client": {"driver": {"name": "x"}}})");
  std::string frame = BuildOpQuery(9, "admin.$cmd", q);
  auto h = ParseHeader(frame);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->op_code, 2004);
  auto parsed = ParseOpQuery(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->full_collection_name, "admin.$cmd");
  EXPECT_EQ(parsed->number_to_return, -1);
  EXPECT_TRUE(bson::BinaryEqual(parsed->query, q));
  for (size_t n = kHeaderSize; n < frame.size(); ++n) {
    std::string cut = frame.substr(0, n);
    WriteLE32(cut.data(), static_cast<int32_t>(n));
    EXPECT_FALSE(ParseOpQuery(cut).ok()) << n;
  }
  std::string junk = frame + "junk";
  WriteLE32(junk.data(), static_cast<int32_t>(junk.size()));
  EXPECT_FALSE(ParseOpQuery(junk).ok());
}

TEST(OpReply, RoundTrip) {
  auto d = J(R"({"ismaster": true, "ok": 1.0})");
  std::string frame = BuildOpReply(10, 9, d);
  EXPECT_EQ(ReadLE32(frame.data()), static_cast<int32_t>(frame.size()));
  EXPECT_EQ(ReadLE32(frame.data() + 8), 9);
  EXPECT_EQ(ReadLE32(frame.data() + 12), 1);
  auto back = ParseOpReply(frame);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(bson::BinaryEqual(back.value(), d));
}

}  // namespace
}  // namespace brook::wire

namespace brook::wire {
namespace {

// Random single-byte and length mutations of valid frames: parsing may fail but must
// never crash or read out of bounds (run under ASan in the sanitizer build).
TEST(OpMsg, MutatedFramesNeverCrash) {
  auto body = bson::FromJson(R"({"insert": "c", "$db": "test", "n": {"a": [1, 2, {"b": "x"}]}})").value();
  auto doc = bson::FromJson(R"({"_id": 1, "s": "hello", "d": {"x": 1.5}})").value();
  std::vector<std::string> seeds = {
      BuildOpMsg(1, 0, 0, body), BuildOpMsg(1, 0, kChecksumPresent, body),
      BuildOpMsgWithSequence(1, 0, 0, body, "documents", {doc, doc, doc}),
      BuildOpQuery(1, "admin.$cmd", body)};
  uint64_t state = 88172645463325252ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int parsed_ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string f = seeds[next() % seeds.size()];
    int mutations = 1 + static_cast<int>(next() % 4);
    for (int m = 0; m < mutations; ++m) {
      size_t pos = next() % f.size();
      switch (next() % 3) {
        case 0: f[pos] = static_cast<char>(next()); break;
        case 1: f[pos] ^= static_cast<char>(1 << (next() % 8)); break;
        case 2: f.resize(std::max<size_t>(kHeaderSize, f.size() - next() % 8)); break;
      }
    }
    if (next() % 2) WriteLE32(f.data(), static_cast<int32_t>(f.size()));
    // Copy into an exact-size heap buffer so ASan catches any over-read.
    std::unique_ptr<char[]> exact(new char[f.size()]);
    std::memcpy(exact.get(), f.data(), f.size());
    std::string_view view(exact.get(), f.size());
    parsed_ok += ParseOpMsg(view).ok();
    parsed_ok += ParseOpQuery(view).ok();
    (void)ParseOpReply(view).ok();
  }
  EXPECT_GT(parsed_ok, 0);  // some mutations (e.g. inside string values) stay valid
}

}  // namespace
}  // namespace brook::wire
