// $unwind: one output document per element of the array at `path`, with
// includeArrayIndex (a long) and preserveNullAndEmptyArrays. A non-array, non-null value
// passes through as if it were a one-element array. The path goes through
// sub-documents only, as MongoDB's $unwind does.
#include <deque>

#include "query/stage.h"
#include "query/stage_util.h"

namespace brook::query::pipeline_internal {
namespace {

struct UnwindSpec {
  std::vector<std::string> path;
  std::vector<std::string> index_path;  // empty: none
  bool preserve = false;
};

class UnwindSource : public DocumentSource {
 public:
  UnwindSource(std::unique_ptr<DocumentSource> input, const UnwindSpec* spec)
      : input_(std::move(input)), spec_(spec) {}

  StatusWith<std::optional<bson::Doc>> Next() override {
    while (pending_.empty()) {
      auto next = input_->Next();
      if (!next.ok() || !next.value()) return next;
      Expand(*next.value());
    }
    bson::Doc d = std::move(pending_.front());
    pending_.pop_front();
    return std::optional<bson::Doc>(std::move(d));
  }

 private:
  bson::Doc WithIndex(bson::Doc doc, const Value& index) const {
    if (spec_->index_path.empty()) return doc;
    return SetDocPath(doc.view(), spec_->index_path, index);
  }

  void Expand(const bson::Doc& doc) {
    bson::Element v = GetDocPath(doc.view(), spec_->path);
    if (v.IsArray()) {
      bson::View arr = v.Obj();
      if (arr.empty()) {
        if (spec_->preserve) {
          pending_.push_back(WithIndex(SetDocPath(doc.view(), spec_->path, Value()), Value::Null()));
        }
        return;
      }
      int64_t i = 0;
      for (const bson::Element& item : arr) {
        bson::Doc out = SetDocPath(doc.view(), spec_->path, Value::FromElement(item));
        pending_.push_back(WithIndex(std::move(out), Value::Int64(i++)));
      }
      return;
    }
    if (v.missing() || v.IsNullish()) {
      if (spec_->preserve) pending_.push_back(WithIndex(bson::Doc::CopyOf(doc.view()), Value::Null()));
      return;
    }
    pending_.push_back(WithIndex(bson::Doc::CopyOf(doc.view()), Value::Null()));
  }

  std::unique_ptr<DocumentSource> input_;
  const UnwindSpec* spec_;
  std::deque<bson::Doc> pending_;
};

class UnwindStage : public Stage {
 public:
  UnwindStage(bson::Doc spec, UnwindSpec unwind) : Stage(std::move(spec)), unwind_(std::move(unwind)) {}
  StatusWith<std::unique_ptr<DocumentSource>> Open(std::unique_ptr<DocumentSource> input,
                                                   const RunContextPtr&) const override {
    return std::unique_ptr<DocumentSource>(new UnwindSource(std::move(input), &unwind_));
  }

 private:
  UnwindSpec unwind_;
};

}  // namespace

StatusWith<StagePtr> ParseUnwindStage(const bson::Element& spec, const ParseContext&) {
  UnwindSpec u;
  bson::Element path;
  if (spec.type() == bson::Type::kString) {
    path = spec;
  } else if (spec.IsObject()) {
    for (const bson::Element& e : spec.Obj()) {
      if (e.key() == "path") {
        if (e.type() != bson::Type::kString) {
          return Status(28808, "expected a string as the path for $unwind stage, got " +
                                   std::string(bson::TypeName(e.type())));
        }
        path = e;
      } else if (e.key() == "includeArrayIndex") {
        if (e.type() != bson::Type::kString || e.Str().empty()) {
          return Status(28810, "expected a non-empty string for the includeArrayIndex  option to "
                               "$unwind stage");
        }
        if (e.Str()[0] == '$') {
          return Status(28822, "includeArrayIndex option to $unwind stage should not be prefixed "
                               "with a '$': " + std::string(e.Str()));
        }
        u.index_path = SplitDotted(e.Str());
      } else if (e.key() == "preserveNullAndEmptyArrays") {
        if (e.type() != bson::Type::kBool) {
          return Status(28809, "expected a boolean for the preserveNullAndEmptyArrays option to "
                               "$unwind stage");
        }
        u.preserve = e.Bool();
      } else {
        return Status(28811, "unrecognized option to $unwind stage: " + std::string(e.key()));
      }
    }
    if (path.missing()) return Status(28812, "no path specified to $unwind stage");
  } else {
    return Status(15981, "expected either a string or an object as specification for $unwind "
                         "stage, got " + std::string(bson::TypeName(spec.type())));
  }
  std::string_view p = path.Str();
  if (p.empty() || p[0] != '$') {
    return Status(28818, "path option to $unwind stage should be prefixed with a '$': " + std::string(p));
  }
  if (p.size() == 1) return Status(40352, "FieldPath cannot be constructed with empty string");
  u.path = SplitDotted(p.substr(1));
  for (const auto& part : u.path) {
    if (part.empty()) return Status(15998, "FieldPath field names may not be empty strings.");
  }
  return StagePtr(new UnwindStage(SpecDoc(spec), std::move(u)));
}

}  // namespace brook::query::pipeline_internal
