#include "catalog/index_keys.h"

#include <algorithm>
#include <charconv>

#include "bson/builder.h"
#include "storage/key_string.h"

namespace brook::catalog {
namespace {

const bson::Doc& NullHolder() {
  static const bson::Doc* d = [] {
    bson::Builder b;
    b.AppendNull("");
    return new bson::Doc(b.Done());
  }();
  return *d;
}

const bson::Doc& UndefinedHolder() {
  static const bson::Doc* d = [] {
    bson::Builder b;
    b.AppendUndefined("");
    return new bson::Doc(b.Done());
  }();
  return *d;
}

bson::Element NullElement() { return NullHolder().view().first(); }
bson::Element UndefinedElement() { return UndefinedHolder().view().first(); }

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(path.substr(start));
      return parts;
    }
    parts.push_back(path.substr(start, dot - start));
    start = dot + 1;
  }
}

bool IsArrayIndex(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct FieldValues {
  std::vector<bson::Element> values;
  bool present = false;          // some value was found (not only nulls for missing)
  bool array_seen = false;       // the path crossed or ended at an array
  std::string array_field;       // the path component that was an array
};

void Collect(bson::View obj, const std::vector<std::string_view>& parts, size_t i,
             FieldValues* out);

// `e` is the value found at parts[i]; continues the walk below it.
void CollectFrom(const bson::Element& e, const std::vector<std::string_view>& parts, size_t i,
                 FieldValues* out) {
  bool last = i + 1 == parts.size();
  if (last) {
    out->present = true;
    if (e.IsArray()) {
      out->array_seen = true;
      out->array_field = std::string(parts[i]);
      bson::View arr = e.Obj();
      if (arr.empty()) {
        out->values.push_back(UndefinedElement());
      } else {
        for (const auto& item : arr) out->values.push_back(item);
      }
    } else {
      out->values.push_back(e);
    }
    return;
  }
  if (e.IsObject()) {
    Collect(e.Obj(), parts, i + 1, out);
    return;
  }
  if (e.IsArray()) {
    bson::View arr = e.Obj();
    // "a.0.b": a positional component selects one element without fanning out.
    if (IsArrayIndex(parts[i + 1])) {
      auto item = arr.Get(parts[i + 1]);
      if (!item.missing()) {
        CollectFrom(item, parts, i + 1, out);
        return;
      }
    }
    out->array_seen = true;
    out->array_field = std::string(parts[i]);
    bool any_non_object = arr.empty();
    for (const auto& item : arr) {
      if (item.IsObject()) {
        Collect(item.Obj(), parts, i + 1, out);
      } else {
        any_non_object = true;
      }
    }
    // Elements without the subfield count as null: a superset is safe because every
    // candidate is re-checked by the matcher.
    if (any_non_object) out->values.push_back(NullElement());
    return;
  }
  out->values.push_back(NullElement());
}

void Collect(bson::View obj, const std::vector<std::string_view>& parts, size_t i,
             FieldValues* out) {
  auto e = obj.Get(parts[i]);
  if (e.missing()) {
    out->values.push_back(NullElement());
    return;
  }
  CollectFrom(e, parts, i, out);
}

}  // namespace

StatusWith<KeyPattern> KeyPattern::Parse(bson::View key) {
  KeyPattern p;
  if (key.empty()) {
    return Status(ErrorCodes::kCannotCreateIndex, "Index keys cannot be an empty field.");
  }
  for (const auto& e : key) {
    if (e.key().empty()) {
      return Status(ErrorCodes::kCannotCreateIndex, "Index keys cannot be an empty field.");
    }
    if (e.type() == bson::Type::kString) {
      return Status(ErrorCodes::kCannotCreateIndex,
                    "Index type '" + std::string(e.Str()) + "' is not supported by Brook");
    }
    if (!e.IsNumber()) {
      return Status(ErrorCodes::kCannotCreateIndex,
                    "Values in v:2 index key pattern cannot be of type " +
                        std::string(bson::TypeName(e.type())) +
                        ". Only numbers > 0, numbers < 0, and strings are allowed.");
    }
    double d = e.NumberDouble();
    if (!(d > 0) && !(d < 0)) {
      return Status(ErrorCodes::kCannotCreateIndex,
                    "Values in the index key pattern can't be 0 or NaN");
    }
    p.fields.push_back(KeyField{std::string(e.key()), d < 0});
  }
  return p;
}

Status GenerateKeys(const KeyPattern& pattern, bson::View doc, bool sparse,
                    std::vector<GeneratedKey>* keys) {
  std::vector<FieldValues> fields(pattern.fields.size());
  bool any_present = false;
  int array_field = -1;
  for (size_t f = 0; f < pattern.fields.size(); ++f) {
    auto parts = SplitPath(pattern.fields[f].path);
    Collect(doc, parts, 0, &fields[f]);
    any_present = any_present || fields[f].present;
    if (fields[f].array_seen) {
      if (array_field >= 0) {
        return Status(ErrorCodes::kCannotIndexParallelArrays,
                      "cannot index parallel arrays [" + fields[f].array_field + "] [" +
                          fields[array_field].array_field + "]");
      }
      array_field = static_cast<int>(f);
    }
  }
  if (sparse && !any_present) return Status::OK();

  size_t fanout = array_field >= 0 ? fields[array_field].values.size() : 1;
  std::vector<GeneratedKey> out;
  out.reserve(fanout);
  for (size_t k = 0; k < fanout; ++k) {
    GeneratedKey key;
    for (size_t f = 0; f < fields.size(); ++f) {
      const auto& vals = fields[f].values;
      // Non-array fields may still collect several values only through arrays, which
      // array_seen covers; so a non-array field has exactly one value.
      const bson::Element& v = static_cast<int>(f) == array_field ? vals[k] : vals.front();
      storage::AppendKeyString(v, pattern.fields[f].descending, &key.encoded);
      key.values.push_back(v);
    }
    out.push_back(std::move(key));
  }
  std::sort(out.begin(), out.end(),
            [](const GeneratedKey& a, const GeneratedKey& b) { return a.encoded < b.encoded; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const GeneratedKey& a, const GeneratedKey& b) {
                          return a.encoded == b.encoded;
                        }),
            out.end());
  for (auto& k : out) keys->push_back(std::move(k));
  return Status::OK();
}

bson::Doc KeyValueDoc(const KeyPattern& pattern, const GeneratedKey& key) {
  bson::Builder b;
  for (size_t i = 0; i < pattern.fields.size() && i < key.values.size(); ++i) {
    b.AppendAs(pattern.fields[i].path, key.values[i]);
  }
  return b.Done();
}

}  // namespace brook::catalog
