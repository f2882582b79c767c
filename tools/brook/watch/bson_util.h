#pragma once
// Small helpers over libbson for `brook watch`: an owning bson_t wrapper, Extended JSON
// in libbson's relaxed or canonical form, and a cluster-time value.
//
// Owns: nothing shared. BsonDoc owns one heap bson_t (std::unique_ptr<bson_t> and
// std::vector<bson_t*> trip -Werror=ignored-attributes on g++ 12 because bson_t is
// aligned, hence this class).
// Thread-safety: values; a BsonDoc is used by one thread at a time.

#include <bson/bson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brook::watch {

enum class JsonFormat { kRelaxed, kCanonical };

// A MongoDB Timestamp (seconds, increment), e.g. an operation or cluster time.
struct ClusterTime {
  uint32_t t = 0;
  uint32_t i = 0;
  bool operator==(const ClusterTime&) const = default;
  bool operator<(const ClusterTime& o) const { return t != o.t ? t < o.t : i < o.i; }
};

class BsonDoc {
 public:
  BsonDoc() = default;  // holds nothing (IsEmpty()), distinct from an empty document
  explicit BsonDoc(bson_t* owned) : b_(owned) {}
  static BsonDoc Copy(const bson_t* b) { return BsonDoc(b ? bson_copy(b) : nullptr); }
  static BsonDoc New() { return BsonDoc(bson_new()); }
  // Parses Extended JSON (relaxed or canonical); on failure returns nothing and sets *error.
  static BsonDoc FromJson(std::string_view json, std::string* error);

  BsonDoc(const BsonDoc& o) : b_(o.b_ ? bson_copy(o.b_) : nullptr) {}
  BsonDoc& operator=(const BsonDoc& o) {
    if (this != &o) *this = BsonDoc(o);
    return *this;
  }
  BsonDoc(BsonDoc&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  BsonDoc& operator=(BsonDoc&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BsonDoc() {
    if (b_) bson_destroy(b_);
  }

  bool IsEmpty() const { return b_ == nullptr; }
  const bson_t* get() const { return b_; }
  bson_t* mut() { return b_; }
  bool SameBytes(const BsonDoc& o) const;

 private:
  bson_t* b_ = nullptr;
};

// libbson's Extended JSON of a document, one line (libbson never emits newlines). The
// relaxed form goes through fast_json.h, byte-identical and faster.
std::string ToExtJson(const bson_t* doc, JsonFormat format);

// Field lookups that tolerate absence and wrong types (return nullopt).
std::optional<std::string> GetString(const bson_t* doc, const char* dotted);
std::optional<ClusterTime> GetTimestamp(const bson_t* doc, const char* dotted);
std::optional<int64_t> GetInt(const bson_t* doc, const char* dotted);  // int32/int64/double
BsonDoc GetDocument(const bson_t* doc, const char* dotted);           // nothing if absent

// The cluster time inside a resume token {_data: hex}, decoded offline (for logs and lag).
std::optional<ClusterTime> TokenClusterTime(const bson_t* token);

// Parses a user's token: the _data hex, or a token document as JSON.
BsonDoc ParseTokenArg(const std::string& text, std::string* error);

}  // namespace brook::watch
