#pragma once
// Value: one owned BSON value, or "missing".
//
// Owns: storage for values computed by expressions and accumulators. A Value is a
// single-field BSON document {"": <value>}, so it converts to and from Elements without
// a second type system and can be appended to any Builder as-is.
// Caution: element() points into the Value's own buffer; moving the Value (e.g. when a
// std::vector<Value> grows) may move that buffer, so never keep an Element across a move.
// Thread-safety: immutable value type.

#include <string>
#include <string_view>
#include <vector>

#include "bson/builder.h"
#include "bson/compare.h"
#include "bson/document.h"

namespace brook::query {

class Value {
 public:
  Value() = default;  // missing
  static Value FromElement(const bson::Element& e);
  static Value Null();
  static Value Bool(bool b);
  static Value Int32(int32_t v);
  static Value Int64(int64_t v);
  static Value Double(double v);
  static Value String(std::string_view s);
  static Value Document(bson::View doc);
  static Value Array(bson::View array_doc);
  // Builds from a builder that holds exactly one field (its key is ignored).
  static Value FromSingleFieldDoc(bson::Doc doc);

  static Value Undefined();
  static Value Decimal(bson::Decimal128 v);
  static Value Date(int64_t millis);
  static Value Oid(const bson::ObjectId& oid);
  static Value Timestamp(bson::Timestamp ts);
  // An array of `items`; missing items become null (as MongoDB's array literals do).
  static Value ArrayOf(const std::vector<Value>& items);

  bool missing() const { return doc_.empty(); }
  // The element, keyed "" (missing Element when missing()).
  bson::Element element() const { return missing() ? bson::Element() : doc_.view().first(); }
  bson::Type type() const { return element().type(); }
  // Appends under `key`; appends nothing when missing.
  void AppendTo(bson::Builder* b, std::string_view key) const {
    if (!missing()) b->AppendAs(key, element());
  }

  // Missing, null or undefined.
  bool nullish() const { return missing() || element().IsNullish(); }
  bool IsNumber() const { return !missing() && element().IsNumber(); }
  bool IsArray() const { return type() == bson::Type::kArray; }
  bool IsObject() const { return type() == bson::Type::kObject; }
  bool IsString() const { return type() == bson::Type::kString; }
  // MongoDB's truthiness; missing is false.
  bool Truthy() const { return !missing() && element().Truthy(); }
  // The elements of an array value (empty when not an array).
  std::vector<Value> ArrayItems() const;
  // Relaxed Extended JSON of the value, for messages ("missing" when missing).
  std::string ToString() const;

 private:
  bson::Doc doc_;
};

// MongoDB's order over values; missing sorts below every value and equals missing.
int CompareValue(const Value& a, const Value& b, const bson::StringComparator* collator = nullptr);
inline bool ValueEquals(const Value& a, const Value& b,
                        const bson::StringComparator* collator = nullptr) {
  return CompareValue(a, b, collator) == 0;
}

}  // namespace brook::query
