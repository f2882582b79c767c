#include "commands/find_cmd_sort.h"

#include <algorithm>
#include <numeric>

#include "bson/builder.h"
#include "query/path.h"

namespace brook::commands {
namespace {

const bson::Doc& Specials() {
  static const bson::Doc* d = [] {
    bson::Builder b;
    b.AppendNull("null");
    b.AppendUndefined("empty");  // an empty array sorts below null
    return new bson::Doc(b.Done());
  }();
  return *d;
}

}  // namespace

StatusWith<SortPattern> SortPattern::Parse(bson::View sort) {
  SortPattern p;
  for (const auto& e : sort) {
    if (e.IsObject()) {
      auto meta = e.Obj()["$meta"];
      if (meta.type() == bson::Type::kString) continue;
      return Status(ErrorCodes::kBadValue, "Illegal key in $sort specification: " +
                                               std::string(e.key()) + ": " + e.ToString());
    }
    if (!e.IsNumber()) {
      return Status(ErrorCodes::kBadValue, "Illegal key in $sort specification: " +
                                               std::string(e.key()) + ": " + e.ToString());
    }
    double d = e.NumberDouble();
    if (d != 1 && d != -1) {
      return Status(ErrorCodes::kBadValue,
                    "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    if (e.key().empty()) {
      return Status(ErrorCodes::kBadValue, "FieldPath cannot be constructed with empty string");
    }
    p.fields_.push_back(Field{std::string(e.key()), d < 0});
  }
  return p;
}

bson::Element SortPattern::KeyOf(bson::View doc, const Field& f,
                                 const bson::StringComparator* collator) const {
  bson::Element best;
  bool have = false;
  auto consider = [&](const bson::Element& v) {
    if (!have) {
      best = v;
      have = true;
      return;
    }
    int c = bson::CompareValues(v, best, collator);
    if (f.descending ? c > 0 : c < 0) best = v;
  };
  query::FieldPath path(f.path);
  query::VisitPath(doc, path, query::LeafArrayBehavior::kNoTraversal,
                   [&](const bson::Element& v, int) {
                     if (v.missing()) {
                       consider(Specials()["null"]);
                     } else if (v.IsArray()) {
                       bson::View arr = v.Obj();
                       if (arr.empty()) {
                         consider(Specials()["empty"]);
                       } else {
                         for (const auto& item : arr) consider(item);
                       }
                     } else {
                       consider(v);
                     }
                     return false;
                   });
  return have ? best : Specials()["null"];
}

int SortPattern::Compare(bson::View a, bson::View b, const bson::StringComparator* collator) const {
  for (const auto& f : fields_) {
    int c = bson::CompareValues(KeyOf(a, f, collator), KeyOf(b, f, collator), collator);
    if (c != 0) return f.descending ? -c : c;
  }
  return 0;
}

void SortPattern::Sort(std::vector<bson::Doc>* docs, const bson::StringComparator* collator) const {
  if (fields_.empty() || docs->size() < 2) return;
  // Keys point into the documents, which stay put while only indexes are sorted.
  std::vector<std::vector<bson::Element>> keys(docs->size());
  for (size_t i = 0; i < docs->size(); ++i) {
    for (const auto& f : fields_) keys[i].push_back(KeyOf((*docs)[i].view(), f, collator));
  }
  std::vector<size_t> order(docs->size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    for (size_t k = 0; k < fields_.size(); ++k) {
      int c = bson::CompareValues(keys[x][k], keys[y][k], collator);
      if (c != 0) return fields_[k].descending ? c > 0 : c < 0;
    }
    return false;
  });
  std::vector<bson::Doc> sorted;
  sorted.reserve(docs->size());
  for (size_t i : order) sorted.push_back(std::move((*docs)[i]));
  *docs = std::move(sorted);
}

}  // namespace brook::commands
