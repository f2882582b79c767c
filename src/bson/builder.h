#pragma once
// Write side of BSON: Builder appends fields into one growing buffer.
//
// Owns: producing valid BSON bytes. Sub-documents and arrays are opened and closed on
// the same buffer (no copies); lengths are back-patched on Close(). For arrays, the
// caller supplies the keys "0", "1", ... (ArrayKey() gives them without allocating).
// Thread-safety: a Builder is used by one thread at a time.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "bson/types.h"

namespace brook::bson {

// "0", "1", ... for array keys; cheap for small indexes.
std::string_view ArrayKey(size_t index, std::string* scratch);

class Builder {
 public:
  Builder();
  explicit Builder(size_t reserve);

  Builder& AppendDouble(std::string_view key, double v);
  Builder& AppendString(std::string_view key, std::string_view v);
  Builder& AppendDocument(std::string_view key, View doc);
  Builder& AppendArray(std::string_view key, View array_doc);
  Builder& AppendBinary(std::string_view key, uint8_t subtype, std::string_view bytes);
  Builder& AppendUndefined(std::string_view key);
  Builder& AppendOid(std::string_view key, const ObjectId& oid);
  Builder& AppendBool(std::string_view key, bool v);
  Builder& AppendDate(std::string_view key, int64_t millis);
  Builder& AppendNull(std::string_view key);
  Builder& AppendRegex(std::string_view key, std::string_view pattern, std::string_view options);
  Builder& AppendCode(std::string_view key, std::string_view code);
  Builder& AppendSymbol(std::string_view key, std::string_view symbol);
  Builder& AppendInt32(std::string_view key, int32_t v);
  Builder& AppendTimestamp(std::string_view key, Timestamp ts);
  Builder& AppendInt64(std::string_view key, int64_t v);
  Builder& AppendDecimal128(std::string_view key, Decimal128 v);
  Builder& AppendMinKey(std::string_view key);
  Builder& AppendMaxKey(std::string_view key);
  // Appends `e`'s value under its own key, or under `key`.
  Builder& Append(const Element& e);
  Builder& AppendAs(std::string_view key, const Element& e);
  // Appends every field of `doc`.
  Builder& AppendAll(View doc);

  // Nested building on the same buffer; every Open must be matched by Close().
  Builder& OpenDocument(std::string_view key);
  Builder& OpenArray(std::string_view key);
  Builder& Close();
  size_t depth() const { return open_.size(); }

  // Bytes written so far (an upper bound on the finished size, minus open terminators).
  size_t size() const { return buf_.size(); }
  bool HasFieldsAtTop() const { return buf_.size() > 4 && open_.empty(); }

  // Closes the top-level document and returns it. The builder is left empty and reusable.
  Doc Done();

 private:
  void AppendHeader(Type t, std::string_view key);
  void AppendRaw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void AppendLE32(uint32_t v);
  void AppendLE64(uint64_t v);

  std::string buf_;
  // Offsets of the length prefixes of the open nested documents (the top-level one is at
  // 0): empty, and so not allocated, for a flat document.
  std::vector<size_t> open_;
};

}  // namespace brook::bson
