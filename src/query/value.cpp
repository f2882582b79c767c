#include "query/value.h"

namespace brook::query {
namespace {

template <typename F>
Value Make(F&& append) {
  bson::Builder b;
  append(b);
  return Value::FromSingleFieldDoc(b.Done());
}

}  // namespace

Value Value::FromElement(const bson::Element& e) {
  if (e.missing()) return Value();
  return Make([&](bson::Builder& b) { b.AppendAs("", e); });
}
Value Value::Null() {
  return Make([](bson::Builder& b) { b.AppendNull(""); });
}
Value Value::Undefined() {
  return Make([](bson::Builder& b) { b.AppendUndefined(""); });
}
Value Value::Bool(bool v) {
  return Make([&](bson::Builder& b) { b.AppendBool("", v); });
}
Value Value::Int32(int32_t v) {
  return Make([&](bson::Builder& b) { b.AppendInt32("", v); });
}
Value Value::Int64(int64_t v) {
  return Make([&](bson::Builder& b) { b.AppendInt64("", v); });
}
Value Value::Double(double v) {
  return Make([&](bson::Builder& b) { b.AppendDouble("", v); });
}
Value Value::String(std::string_view s) {
  return Make([&](bson::Builder& b) { b.AppendString("", s); });
}
Value Value::Document(bson::View doc) {
  return Make([&](bson::Builder& b) { b.AppendDocument("", doc); });
}
Value Value::Array(bson::View array_doc) {
  return Make([&](bson::Builder& b) { b.AppendArray("", array_doc); });
}
Value Value::Decimal(bson::Decimal128 v) {
  return Make([&](bson::Builder& b) { b.AppendDecimal128("", v); });
}
Value Value::Date(int64_t millis) {
  return Make([&](bson::Builder& b) { b.AppendDate("", millis); });
}
Value Value::Oid(const bson::ObjectId& oid) {
  return Make([&](bson::Builder& b) { b.AppendOid("", oid); });
}
Value Value::Timestamp(bson::Timestamp ts) {
  return Make([&](bson::Builder& b) { b.AppendTimestamp("", ts); });
}

Value Value::ArrayOf(const std::vector<Value>& items) {
  return Make([&](bson::Builder& b) {
    b.OpenArray("");
    std::string scratch;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string_view key = bson::ArrayKey(i, &scratch);
      if (items[i].missing()) {
        b.AppendNull(key);
      } else {
        b.AppendAs(key, items[i].element());
      }
    }
    b.Close();
  });
}

Value Value::FromSingleFieldDoc(bson::Doc doc) {
  Value v;
  if (!doc.empty()) v.doc_ = std::move(doc);
  return v;
}

std::vector<Value> Value::ArrayItems() const {
  std::vector<Value> out;
  if (!IsArray()) return out;
  for (const bson::Element& e : element().Obj()) out.push_back(FromElement(e));
  return out;
}

std::string Value::ToString() const {
  if (missing()) return "missing";
  return element().ToString();
}

int CompareValue(const Value& a, const Value& b, const bson::StringComparator* collator) {
  if (a.missing() || b.missing()) {
    if (a.missing() && b.missing()) return 0;
    return a.missing() ? -1 : 1;
  }
  return bson::CompareValues(a.element(), b.element(), collator);
}

}  // namespace brook::query
