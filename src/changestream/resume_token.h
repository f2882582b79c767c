#pragma once
// Change-stream resume tokens: {_data: "<hex>"} in MongoDB's KeyString V1 layout.
//
// Owns: building, parsing and ordering resume tokens. On-wire fact (drivers, tools and
// saved checkpoints depend on it; never change): _data is the uppercase hex of the
// KeyString encoding of, in order: clusterTime (Timestamp), version (int), tokenType
// (int: 128 event, 0 high-water mark), txnOpIndex (int), fromInvalidate (bool), the
// collection UUID (BinData 4) or null, the eventIdentifier document
// ({operationType, documentKey} or {operationType, operationDescription}) and, for a
// fragment of a split event, fragmentNum (int); then the KeyString end byte. Because
// KeyString bytes sort as the values do, tokens order by memcmp of their bytes, which is
// how a resumed stream skips what it has already delivered.
// Thread-safety: immutable values.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "bson/builder.h"
#include "bson/document.h"
#include "bson/types.h"
#include "util/status.h"

namespace brook::changestream {

using CollectionUuid = std::array<uint8_t, 16>;

struct ResumeTokenData {
  enum class Type : int32_t { kHighWaterMark = 0, kEvent = 128 };

  bson::Timestamp cluster_time;
  int32_t version = 2;
  Type type = Type::kEvent;
  int32_t txn_op_index = 0;
  bool from_invalidate = false;
  std::optional<CollectionUuid> uuid;
  std::optional<bson::Doc> event_identifier;
  std::optional<int32_t> fragment_num;
};

class ResumeToken {
 public:
  // No token yet (empty bytes): a placeholder until one is assigned, as in a ChangeEvent
  // before stage 3 sets it. Costs nothing, unlike building a high-water mark.
  ResumeToken() = default;
  static ResumeToken FromData(const ResumeTokenData& data);
  static ResumeToken HighWaterMark(bson::Timestamp cluster_time);
  // Parses a client-supplied token document, with MongoDB's errors for bad shapes.
  static StatusWith<ResumeToken> Parse(bson::View token_doc);

  // Decodes the fields, validating them as MongoDB does (error codes 40649, 50795, ...).
  StatusWith<ResumeTokenData> Decode() const;

  const std::string& keystring() const { return keystring_; }
  std::string Hex() const;
  bson::Doc ToDocument() const;  // {_data: "<hex>"}
  // Appends `key: {_data: "<hex>"}` to `b` (ToDocument without building a document).
  void AppendAsDocument(bson::Builder* b, std::string_view key) const;
  int Compare(const ResumeToken& other) const { return keystring_.compare(other.keystring_); }
  bool operator==(const ResumeToken& other) const { return keystring_ == other.keystring_; }

 private:
  explicit ResumeToken(std::string keystring) : keystring_(std::move(keystring)) {}
  std::string keystring_;
};

}  // namespace brook::changestream
