#include "query/update_doc.h"

#include "query/path.h"

namespace brook::query::update_internal {

void MutableNode::Expand() {
  if (kind != Kind::kValue) return;
  bson::Type t = value.type();
  if (t != bson::Type::kObject && t != bson::Type::kArray) return;
  kind = t == bson::Type::kObject ? Kind::kObject : Kind::kArray;
  children.clear();
  for (const auto& e : value.Obj()) {
    auto n = std::make_unique<MutableNode>();
    n->value = e;
    children.push_back(MutableChild{kind == Kind::kObject ? std::string(e.key()) : std::string(),
                                    std::move(n)});
  }
}

size_t MutableNode::ArraySize() {
  Expand();
  return children.size();
}

MutableNode* MutableNode::FindField(std::string_view name) {
  Expand();
  if (kind == Kind::kObject) {
    for (auto& c : children) {
      if (c.key == name) return c.node.get();
    }
    return nullptr;
  }
  if (kind == Kind::kArray) {
    auto idx = ParseArrayIndex(name);
    if (!idx) return nullptr;
    return At(*idx);
  }
  return nullptr;
}

MutableNode* MutableNode::At(size_t index) {
  Expand();
  if (kind != Kind::kArray || index >= children.size()) return nullptr;
  return children[index].node.get();
}

MutableDoc::MutableDoc(bson::View doc) : original_(bson::Doc::CopyOf(doc)) {
  root_.kind = MutableNode::Kind::kObject;
  for (const auto& e : original_.view()) {
    auto n = std::make_unique<MutableNode>();
    n->value = e;
    root_.children.push_back(MutableChild{std::string(e.key()), std::move(n)});
  }
}

bson::Element MutableDoc::Own(const bson::Element& v) {
  bson::Builder b;
  b.AppendAs("", v);
  arena_.push_back(b.Done());
  return arena_.back().view().first();
}

bson::Element MutableDoc::OwnDoc(bson::Doc doc) {
  arena_.push_back(std::move(doc));
  return arena_.back().view().first();
}

bson::Element MutableDoc::ValueOf(const MutableNode& n) {
  if (n.kind == MutableNode::Kind::kValue) return n.value;
  bson::Builder b;
  Write(n, "", &b);
  return OwnDoc(b.Done());
}

std::unique_ptr<MutableNode> MutableDoc::MakeValueNode(const bson::Element& v) {
  auto n = std::make_unique<MutableNode>();
  n->value = Own(v);
  return n;
}

void MutableDoc::Write(const MutableNode& n, std::string_view key, bson::Builder* b) {
  switch (n.kind) {
    case MutableNode::Kind::kValue: b->AppendAs(key, n.value); return;
    case MutableNode::Kind::kObject:
      b->OpenDocument(key);
      for (const auto& c : n.children) Write(*c.node, c.key, b);
      b->Close();
      return;
    case MutableNode::Kind::kArray: {
      b->OpenArray(key);
      std::string scratch;
      for (size_t i = 0; i < n.children.size(); ++i) {
        Write(*n.children[i].node, bson::ArrayKey(i, &scratch), b);
      }
      b->Close();
      return;
    }
  }
}

bson::Doc MutableDoc::ToDoc() const {
  bson::Builder b;
  for (const auto& c : root_.children) Write(*c.node, c.key, &b);
  return b.Done();
}

std::string Dotted(const RuntimePath& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) out.push_back('.');
    out.append(p[i].name);
  }
  return out;
}

void DescriptionRecorder::NoteAmbiguity(const RuntimePath& path) {
  bool ambiguous = false;
  for (const auto& c : path) {
    if (!c.is_index && (IsAllDigits(c.name) || c.name.find('.') != std::string::npos)) {
      ambiguous = true;
    }
  }
  if (!ambiguous) return;
  std::string dotted = Dotted(path);
  for (auto& [p, comps] : ambiguous_) {
    if (p == dotted) {
      comps = path;
      return;
    }
  }
  ambiguous_.emplace_back(std::move(dotted), path);
}

void DescriptionRecorder::Updated(const RuntimePath& path, const bson::Element& value) {
  std::string dotted = Dotted(path);
  bson::Builder b;
  b.AppendAs("", value);
  NoteAmbiguity(path);
  for (auto& [p, v] : updated_) {
    if (p == dotted) {
      v = b.Done();
      return;
    }
  }
  updated_.emplace_back(std::move(dotted), b.Done());
}

void DescriptionRecorder::Removed(const RuntimePath& path) {
  NoteAmbiguity(path);
  removed_.push_back(Dotted(path));
}

void DescriptionRecorder::Truncated(const RuntimePath& path, int32_t new_size) {
  NoteAmbiguity(path);
  truncated_.emplace_back(Dotted(path), new_size);
}

UpdateDescription DescriptionRecorder::Finish() const {
  UpdateDescription d;
  bson::Builder b;
  for (const auto& [p, v] : updated_) b.AppendAs(p, v.view().first());
  d.updated_fields = b.Done();
  d.removed_fields = removed_;
  d.truncated_arrays = truncated_;
  bson::Builder amb;
  for (const auto& [p, comps] : ambiguous_) {
    amb.OpenArray(p);
    std::string scratch;
    for (size_t i = 0; i < comps.size(); ++i) {
      auto k = bson::ArrayKey(i, &scratch);
      if (comps[i].is_index) {
        amb.AppendInt32(k, static_cast<int32_t>(std::stoll(comps[i].name)));
      } else {
        amb.AppendString(k, comps[i].name);
      }
    }
    amb.Close();
  }
  d.disambiguated_paths = amb.Done();
  return d;
}

bool FieldNameLess::operator()(const std::string& a, const std::string& b) const {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (a.empty() || b.empty() || !is_digit(a[0]) || !is_digit(b[0]) || (a[0] == '0' && a.size() > 1) ||
      (b[0] == '0' && b.size() > 1)) {
    return a < b;
  }
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

}  // namespace brook::query::update_internal

namespace brook::query {

bson::Doc UpdateDescription::ToBson(bool with_disambiguated_paths) const {
  bson::Builder b;
  b.AppendDocument("updatedFields", updated_fields.view());
  b.OpenArray("removedFields");
  std::string scratch;
  for (size_t i = 0; i < removed_fields.size(); ++i) {
    b.AppendString(bson::ArrayKey(i, &scratch), removed_fields[i]);
  }
  b.Close();
  b.OpenArray("truncatedArrays");
  for (size_t i = 0; i < truncated_arrays.size(); ++i) {
    b.OpenDocument(bson::ArrayKey(i, &scratch));
    b.AppendString("field", truncated_arrays[i].first);
    b.AppendInt32("newSize", truncated_arrays[i].second);
    b.Close();
  }
  b.Close();
  if (with_disambiguated_paths) b.AppendDocument("disambiguatedPaths", disambiguated_paths.view());
  return b.Done();
}

}  // namespace brook::query
