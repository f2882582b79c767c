#pragma once
// MongoDB's total order over BSON values (the "cross-type comparison order").
//
// Owns: comparing two values of any types: first by canonical type rank (types.h), then
// within the rank: numbers by numeric value across int32/int64/double/decimal (NaN below
// every other number), strings by bytes (or by a collator), documents and arrays field
// by field, and so on. The key encoding in storage/ must agree with this exactly; a
// property test checks that.
// Thread-safety: pure functions.

#include <string_view>

#include "bson/document.h"

namespace brook::bson {

// Compares strings for collation-aware comparison; nullptr means binary comparison.
class StringComparator {
 public:
  virtual ~StringComparator() = default;
  virtual int Compare(std::string_view a, std::string_view b) const = 0;
};

// <0, 0, >0. Keys are ignored: only the values are compared.
int CompareValues(const Element& a, const Element& b, const StringComparator* collator = nullptr);
// Documents compare element by element: canonical type, then field name (when
// `compare_field_names`), then value; a prefix is less.
int CompareDocs(View a, View b, bool compare_field_names = true,
                const StringComparator* collator = nullptr);

inline bool ValuesEqual(const Element& a, const Element& b) { return CompareValues(a, b) == 0; }

}  // namespace brook::bson
