#pragma once
// MongoDB's dotted-path semantics over BSON, shared by the matcher, projection and
// update operators.
//
// Owns: splitting "a.b.0.c" into components, recognising array-index components, and
// the matcher's traversal of a path through arrays ("implicit array traversal"): at each
// array met on the way, every element that is a document is searched for the rest of
// the path, and a numeric component also selects the element at that index. At the end
// of the path an array yields each of its elements and then itself (unless the caller
// asks for the array alone, as $size and $elemMatch do). This mirrors MongoDB's
// BSONElementIterator, including which array position a match is attributed to (the
// outermost implicitly traversed array), which the positional `$` operator relies on.
// Thread-safety: pure functions over immutable views.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"

namespace brook::query {

// A parsed dotted path. Components view into `dotted()`, which the object owns.
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string dotted);
  // Components view into dotted_, which a move may relocate (short strings), so every
  // copy and move re-splits.
  FieldPath(const FieldPath& o) : FieldPath(o.dotted_) {}
  FieldPath(FieldPath&& o) : FieldPath(std::move(o.dotted_)) {}
  FieldPath& operator=(const FieldPath& o) {
    if (this != &o) Reset(o.dotted_);
    return *this;
  }
  FieldPath& operator=(FieldPath&& o) {
    if (this != &o) Reset(std::move(o.dotted_));
    return *this;
  }

  const std::string& dotted() const { return dotted_; }
  size_t size() const { return parts_.size(); }
  bool empty() const { return parts_.empty(); }
  std::string_view operator[](size_t i) const { return parts_[i]; }
  const std::vector<std::string_view>& parts() const { return parts_; }
  // True when some component is empty ("a..b", ".a", "a.").
  bool HasEmptyComponent() const;
  // "a.b" of the first n components.
  std::string Prefix(size_t n) const;

 private:
  void Reset(std::string dotted);
  std::string dotted_;
  std::vector<std::string_view> parts_;
};

std::vector<std::string_view> SplitPath(std::string_view dotted);

// True for a canonical array index: digits only, no leading zero unless exactly "0".
// This is how updates decide that a component addresses an array element.
std::optional<size_t> ParseArrayIndex(std::string_view s);
// True when every character is a digit. The matcher compares such a component with an
// array element's key as a string, so "01" never selects element 1.
bool IsAllDigits(std::string_view s);

enum class LeafArrayBehavior {
  kTraverse,     // yield each element of a leaf array, then the array itself
  kNoTraversal,  // yield the leaf array as one value
};

// Called for every value found; `array_offset` is the index of the outermost array
// element the value came through by implicit traversal, or -1. A missing value is
// reported as a missing Element. Return true to stop the walk.
using PathVisitor = std::function<bool(const bson::Element& value, int array_offset)>;

// Walks `path` through `doc` with MongoDB's matcher semantics; returns true as soon as
// the visitor does.
bool VisitPath(bson::View doc, const FieldPath& path, LeafArrayBehavior leaf, const PathVisitor& fn);

}  // namespace brook::query
