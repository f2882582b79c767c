#pragma once
// Small libbson helpers shared by the C-driver end-to-end tests: an owning pointer, JSON
// in, relaxed Extended JSON out.
// Thread-safety: values owned by one test thread.

#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <string>
#include <utility>

namespace brook::testing {

// Owns one bson_t. (std::unique_ptr<bson_t> trips -Wignored-attributes: bson_t is aligned.)
class BsonPtr {
 public:
  explicit BsonPtr(bson_t* b) : b_(b) {}
  BsonPtr(BsonPtr&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  BsonPtr& operator=(BsonPtr&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BsonPtr() {
    if (b_) bson_destroy(b_);
  }
  bson_t* get() const { return b_; }

 private:
  bson_t* b_;
};

// Parses Extended JSON; a parse error fails the current test.
inline BsonPtr J(const std::string& json) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                 static_cast<ssize_t>(json.size()), &error);
  EXPECT_NE(b, nullptr) << error.message << " in " << json;
  return BsonPtr(b);
}

inline std::string ToJson(const bson_t* b) {
  char* s = bson_as_relaxed_extended_json(b, nullptr);
  std::string out(s);
  bson_free(s);
  return out;
}

}  // namespace brook::testing
