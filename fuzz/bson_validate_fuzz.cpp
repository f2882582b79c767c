// Fuzz target: the BSON validation gate (bson::Validate), then everything that reads a
// validated document: the typed accessors, Extended JSON output, the nesting depth, and
// the KeyString encoding that index keys, record keys and resume tokens are built from.
// Checked properties, besides "no crash":
//   - Validate accepts exactly one document spanning all the bytes;
//   - KeyString byte order agrees with BSON comparison order (DESIGN.md "Storage
//     layout"), for values without arrays: an array's field names are not encoded (as
//     in MongoDB) and BSON allows any names there, so such arrays compare by names too;
//   - a KeyString of values the decoder supports (all but CodeWScope and DBPointer, see
//     docs/fuzzing.md) decodes, all fields of the document in one KeyString included (a
//     decoder that loses its step shows here); without Decimal128 (a decimal with a
//     decimal continuation decodes to the double below it) the decoded value also
//     encodes to the same bytes and compares equal.

#include <cstddef>
#include <cstdint>
#include <string>

#include "bson/compare.h"
#include "bson/json.h"
#include "bson/validate.h"
#include "fuzz_util.h"
#include "storage/key_string.h"
#include "storage/key_string_decode.h"

namespace {

int Sign(int v) { return (v > 0) - (v < 0); }

// Whether `e` holds, at any depth, a value of type `t`.
bool Holds(const brook::bson::Element& e, brook::bson::Type t) {
  if (e.type() == t) return true;
  if (e.type() == brook::bson::Type::kCodeWScope) {
    for (const auto& f : e.CodeScope()) {
      if (Holds(f, t)) return true;
    }
  }
  if (e.type() != brook::bson::Type::kObject && e.type() != brook::bson::Type::kArray) return false;
  for (const auto& f : e.Obj()) {
    if (Holds(f, t)) return true;
  }
  return false;
}

bool Decodable(const brook::bson::Element& e) {
  using brook::bson::Type;
  return !Holds(e, Type::kCodeWScope) && !Holds(e, Type::kDbPointer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = brook::fuzz::ValidDoc(data, size);
  if (!doc) return 0;
  brook::bson::View v = doc->view();
  if (v.bytes().size() != size) __builtin_trap();
  (void)brook::fuzz::Walk(v);
  if (brook::bson::Depth(v.data()) > brook::bson::kMaxNestingDepth) __builtin_trap();
  (void)brook::bson::ToRelaxedJson(v);
  (void)brook::bson::ToCanonicalJson(v);

  brook::bson::Element prev;
  std::string prev_ks;
  std::string all_ks;  // every field's KeyString, in order, as a compound key holds them
  size_t decodable = 0;
  bool all_decodable = true;
  for (const auto& e : v) {
    std::string ks = brook::storage::KeyStringOf(e);
    const bool has_array = Holds(e, brook::bson::Type::kArray);
    if (!prev.missing() && !has_array && !Holds(prev, brook::bson::Type::kArray)) {
      if (Sign(prev_ks.compare(ks)) != Sign(brook::bson::CompareValues(prev, e))) __builtin_trap();
    }
    if (Decodable(e)) {
      std::string terminated = ks;
      brook::storage::AppendKeyStringEnd(&terminated);
      auto decoded = brook::storage::DecodeKeyString(terminated);
      if (!decoded.ok()) __builtin_trap();
      brook::bson::Element back = decoded.value().view().first();
      if (!Holds(e, brook::bson::Type::kDecimal128)) {
        if (brook::storage::KeyStringOf(back) != ks) __builtin_trap();
        if (!has_array && brook::bson::CompareValues(e, back) != 0) __builtin_trap();
      }
      all_ks += ks;
      ++decodable;
    } else {
      all_decodable = false;
    }
    prev = e;
    prev_ks = std::move(ks);
  }
  if (all_decodable) {
    brook::storage::AppendKeyStringEnd(&all_ks);
    auto decoded = brook::storage::DecodeKeyString(all_ks);
    if (!decoded.ok() || decoded.value().view().CountFields() != decodable) __builtin_trap();
  }
  return 0;
}
