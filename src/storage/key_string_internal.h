#pragma once
// Internals of the KeyString encoding shared by key_string.cpp (all types) and
// key_string_decimal.cpp (Decimal128, which reuses the double encodings).
//
// On-disk and on-wire fact: every constant here is MongoDB's KeyString V1 value
// (mongo/src/mongo/db/storage/key_string.cpp); resume tokens embed them. Never change.
// Thread-safety: pure functions and constants.

#include <cstdint>
#include <string>

#include "bson/types.h"

namespace brook::storage::keystring_internal {

namespace ctype {
inline constexpr uint8_t kMinKey = 10;
inline constexpr uint8_t kUndefined = 15;
inline constexpr uint8_t kNullish = 20;
inline constexpr uint8_t kNumeric = 30;
inline constexpr uint8_t kStringLike = 60;
inline constexpr uint8_t kObject = 70;
inline constexpr uint8_t kArray = 80;
inline constexpr uint8_t kBinData = 90;
inline constexpr uint8_t kOID = 100;
inline constexpr uint8_t kBool = 110;
inline constexpr uint8_t kDate = 120;
inline constexpr uint8_t kTimestamp = 130;
inline constexpr uint8_t kRegEx = 140;
inline constexpr uint8_t kDBRef = 150;
inline constexpr uint8_t kCode = 160;
inline constexpr uint8_t kCodeWithScope = 170;
inline constexpr uint8_t kMaxKey = 240;

inline constexpr uint8_t kNumericNaN = kNumeric + 0;
inline constexpr uint8_t kNumericNegativeLargeMagnitude = kNumeric + 1;  // <= -2^63, -Inf
inline constexpr uint8_t kNumericNegative8ByteInt = kNumeric + 2;
inline constexpr uint8_t kNumericNegative1ByteInt = kNumeric + 9;
inline constexpr uint8_t kNumericNegativeSmallMagnitude = kNumeric + 10;  // (-1, 0)
inline constexpr uint8_t kNumericZero = kNumeric + 11;
inline constexpr uint8_t kNumericPositiveSmallMagnitude = kNumeric + 12;  // (0, 1)
inline constexpr uint8_t kNumericPositive1ByteInt = kNumeric + 13;
inline constexpr uint8_t kNumericPositive8ByteInt = kNumeric + 20;
inline constexpr uint8_t kNumericPositiveLargeMagnitude = kNumeric + 21;  // >= 2^63, +Inf

inline constexpr uint8_t kBoolFalse = kBool + 0;
inline constexpr uint8_t kBoolTrue = kBool + 1;
}  // namespace ctype

// How a stored double relates to the Decimal128 it stands for (MongoDB's DCM).
enum Dcm : uint8_t {
  kDCMEqualToDouble = 0,
  kDCMHasContinuationLessThanDoubleRoundedUpTo15Digits = 1,
  kDCMEqualToDoubleRoundedUpTo15Digits = 2,
  kDCMHasContinuationLargerThanDoubleRoundedUpTo15Digits = 3,
};

inline constexpr double kMinLargeDouble = 9223372036854775808.0;  // 2^63
inline constexpr double kMaxIntForDouble = 9007199254740992.0;    // 2^53

// Appends with every byte flipped when `invert`. Negative numbers call these with the
// invert flag negated for their magnitude bytes, as MongoDB does.
void AppendByte(uint8_t b, bool invert, std::string* out);
void AppendBE64(uint64_t v, bool invert, std::string* out);

void AppendPreshiftedIntegerPortion(uint64_t value, bool negative, bool invert, std::string* out);
void AppendDoubleWithoutTypeBits(double num, Dcm dcm, bool invert, std::string* out);
void AppendSmallDouble(double value, Dcm dcm, bool invert, std::string* out);
void AppendLargeDouble(double value, Dcm dcm, bool invert, std::string* out);

// Decimal128 per MongoDB: exact doubles encode as that double; others as a nearby double
// plus a decimal continuation (key_string_decimal.cpp).
void AppendDecimal(const bson::Decimal128& dec, bool invert, std::string* out);

}  // namespace brook::storage::keystring_internal
