// Fuzz target: resume tokens as a client hands them back (resumeAfter / startAfter, and
// `brook token decode`). The first input byte picks the form:
//   0    : the rest is a whole token document ({_data, _typeBits}), validated as BSON;
//   else : the rest is the KeyString itself, sent as {_data: "<uppercase hex>"}, so the
//          fuzzer mutates the decoder's input directly instead of hex digits.
// Properties checked besides "no crash": a decoded eventIdentifier is valid BSON; a
// decoded token re-encodes to a token that decodes; and, without decimals in the document
// key (which decode to the double below them), that re-encoding is a fixpoint (FromData
// and Decode agree on every value Decode accepts).

#include <cstddef>
#include <cstdint>
#include <string>

#include "bson/builder.h"
#include "bson/validate.h"
#include "changestream/resume_token.h"
#include "fuzz_util.h"

namespace {

std::string UpperHex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

bool HoldsDecimal(brook::bson::View doc) {
  for (const auto& e : doc) {
    if (e.type() == brook::bson::Type::kDecimal128) return true;
    if ((e.IsObject() || e.IsArray()) && HoldsDecimal(e.Obj())) return true;
  }
  return false;
}

void Check(brook::bson::View token_doc) {
  using brook::changestream::ResumeToken;
  auto token = ResumeToken::Parse(token_doc);
  if (!token.ok()) return;
  (void)token.value().Hex();
  auto data = token.value().Decode();
  if (!data.ok()) return;
  if (data.value().event_identifier) {
    const std::string& bytes = data.value().event_identifier->bytes();
    if (!brook::bson::Validate(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()).ok()) {
      __builtin_trap();  // decoded values go on as Views and into replies
    }
  }
  ResumeToken again = ResumeToken::FromData(data.value());
  auto redecoded = again.Decode();
  if (!redecoded.ok()) __builtin_trap();
  // A decimal in the document key may come back as the double below it (KeyString has no
  // type bits to rebuild it), so the encoding is then a fixpoint only value-wise.
  const bool has_decimal = data.value().event_identifier &&
                           HoldsDecimal(data.value().event_identifier->view());
  if (!has_decimal && !(ResumeToken::FromData(redecoded.value()) == again)) __builtin_trap();
  (void)again.ToDocument();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] == 0) {
    auto doc = brook::fuzz::ValidDoc(data + 1, size - 1);
    if (doc) Check(doc->view());
    return 0;
  }
  brook::bson::Builder b;
  b.AppendString("_data", UpperHex(data + 1, size - 1));
  Check(b.Done());
  return 0;
}
