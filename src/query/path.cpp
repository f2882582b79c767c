#include "query/path.h"

namespace brook::query {

std::vector<std::string_view> SplitPath(std::string_view dotted) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) {
      out.push_back(dotted.substr(start));
      break;
    }
    out.push_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

FieldPath::FieldPath(std::string dotted) : dotted_(std::move(dotted)) {
  parts_ = SplitPath(dotted_);
}

void FieldPath::Reset(std::string dotted) {
  dotted_ = std::move(dotted);
  parts_ = SplitPath(dotted_);
}

bool FieldPath::HasEmptyComponent() const {
  for (auto p : parts_) {
    if (p.empty()) return true;
  }
  return false;
}

std::string FieldPath::Prefix(size_t n) const {
  std::string out;
  for (size_t i = 0; i < n && i < parts_.size(); ++i) {
    if (i) out.push_back('.');
    out.append(parts_[i]);
  }
  return out;
}

std::optional<size_t> ParseArrayIndex(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

namespace {

struct Walker {
  const FieldPath& path;
  LeafArrayBehavior leaf;
  const PathVisitor& fn;

  static int Pick(int outer, int local) { return outer >= 0 ? outer : local; }

  // Descends from `obj` at component `start` through documents until an array, a
  // missing field or the end of the path.
  bool FromObject(bson::View obj, size_t start, int outer) const {
    bson::Element e;
    size_t i = start;
    bson::View cur = obj;
    while (true) {
      e = cur.Get(path[i]);
      if (i + 1 == path.size()) break;
      if (e.type() == bson::Type::kObject) {
        cur = e.Obj();
        ++i;
        continue;
      }
      if (e.type() == bson::Type::kArray) break;
      return fn(bson::Element(), outer);  // missing, or a scalar in the way
    }
    if (e.type() != bson::Type::kArray) return fn(e, outer);
    return FromArray(e, i + 1, outer);
  }

  // `arr` is an array reached at path component `next - 1`; `next` is the first
  // component still to apply.
  bool FromArray(const bson::Element& arr, size_t next, int outer) const {
    if (next == path.size()) {
      if (leaf == LeafArrayBehavior::kNoTraversal) return fn(arr, outer);
      int k = 0;
      for (const auto& elt : arr.Obj()) {
        if (fn(elt, Pick(outer, k))) return true;
        ++k;
      }
      return fn(arr, outer);
    }
    std::string_view piece = path[next];
    bool piece_is_number = IsAllDigits(piece);
    int k = 0;
    for (const auto& elt : arr.Obj()) {
      bool offset_match = piece_is_number && elt.key() == piece;
      if (elt.type() == bson::Type::kObject) {
        if (FromObject(elt.Obj(), next, Pick(outer, k))) return true;
        if (offset_match) {
          if (next + 1 == path.size()) {
            if (fn(elt, outer)) return true;
          } else if (FromObject(elt.Obj(), next + 1, outer)) {
            return true;
          }
        }
      } else if (offset_match) {
        if (next + 1 == path.size()) {
          if (fn(elt, outer)) return true;
        } else if (elt.type() == bson::Type::kArray) {
          if (FromArray(elt, next + 1, outer)) return true;
        }
      }
      ++k;
    }
    return false;
  }
};

}  // namespace

bool VisitPath(bson::View doc, const FieldPath& path, LeafArrayBehavior leaf,
               const PathVisitor& fn) {
  if (path.empty()) return fn(bson::Element(), -1);
  Walker w{path, leaf, fn};
  return w.FromObject(doc, 0, -1);
}

}  // namespace brook::query
