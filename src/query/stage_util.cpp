#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

void SetIn(bson::Builder* b, bson::View doc, const std::vector<std::string>& parts, size_t i,
           const Value& v) {
  bool done = false;
  for (const bson::Element& e : doc) {
    if (e.key() != parts[i]) {
      b->Append(e);
      continue;
    }
    if (done) continue;
    done = true;
    if (i + 1 == parts.size()) {
      v.AppendTo(b, parts[i]);
    } else {
      b->OpenDocument(parts[i]);
      SetIn(b, e.IsObject() ? e.Obj() : bson::View(), parts, i + 1, v);
      b->Close();
    }
  }
  if (done) return;
  if (i + 1 == parts.size()) {
    v.AppendTo(b, parts[i]);
  } else if (!v.missing()) {
    b->OpenDocument(parts[i]);
    SetIn(b, bson::View(), parts, i + 1, v);
    b->Close();
  }
}

}  // namespace

std::vector<std::string> SplitDotted(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bson::Doc SetDocPath(bson::View doc, const std::vector<std::string>& parts, const Value& v) {
  bson::Builder b;
  SetIn(&b, doc, parts, 0, v);
  return b.Done();
}

bson::Element GetDocPath(bson::View doc, const std::vector<std::string>& parts) {
  bson::Element e;
  bson::View cur = doc;
  for (size_t i = 0; i < parts.size(); ++i) {
    e = cur.Get(parts[i]);
    if (i + 1 == parts.size()) return e;
    if (!e.IsObject()) return bson::Element();
    cur = e.Obj();
  }
  return e;
}

void CollectPathValues(const bson::Element& e, const std::vector<std::string>& parts, size_t i,
                       std::vector<bson::Element>* out, bool* saw_empty_array) {
  if (e.missing()) return;
  if (i == parts.size()) {
    if (e.IsArray()) {
      if (e.Obj().empty()) *saw_empty_array = true;
      for (const bson::Element& item : e.Obj()) out->push_back(item);
    } else {
      out->push_back(e);
    }
    return;
  }
  if (e.IsObject()) {
    CollectPathValues(e.Obj().Get(parts[i]), parts, i + 1, out, saw_empty_array);
  } else if (e.IsArray()) {
    if (e.Obj().empty()) *saw_empty_array = true;
    for (const bson::Element& item : e.Obj()) {
      if (item.IsObject()) CollectPathValues(item.Obj().Get(parts[i]), parts, i + 1, out, saw_empty_array);
    }
  }
}

}  // namespace brook::query::pipeline_internal
