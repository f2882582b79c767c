#pragma once
// $group accumulators: $sum $avg $min $max $first $last $push $addToSet $count
// $mergeObjects $stdDevPop $stdDevSamp, with MongoDB's typing ($sum of ints stays int
// until it overflows) and null/missing rules.
// Thread-safety: an Accumulator is per-group runtime state, used by one thread.

#include <memory>
#include <string_view>

#include "bson/compare.h"
#include "query/value.h"
#include "util/status.h"

namespace brook::query {

class Accumulator {
 public:
  virtual ~Accumulator() = default;
  virtual Status Process(const Value& v) = 0;
  // The group's result (null when nothing was accumulated, where MongoDB says so).
  virtual Value Finish() const = 0;
};

bool IsAccumulatorName(std::string_view op);
// nullptr when `op` is not an accumulator.
std::unique_ptr<Accumulator> MakeAccumulator(std::string_view op,
                                             const bson::StringComparator* collator);

}  // namespace brook::query
