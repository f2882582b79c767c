#pragma once
// Helpers shared by the stage files: a buffering source for stages that need their
// whole input, document path edits, and dotted-path splitting.
// Thread-safety: per-run objects; pure functions.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "query/pipeline.h"
#include "query/value.h"

namespace brook::query::pipeline_internal {

// Pulls all input on the first Next(), then emits what `finish` made of it.
class BufferedSource : public DocumentSource {
 public:
  using Finish = std::function<StatusWith<std::vector<bson::Doc>>(std::vector<bson::Doc>)>;
  BufferedSource(std::unique_ptr<DocumentSource> input, Finish finish)
      : input_(std::move(input)), finish_(std::move(finish)) {}
  StatusWith<std::optional<bson::Doc>> Next() override {
    if (!done_) {
      auto all = DrainSource(input_.get());
      if (!all.ok()) return all.status();
      auto out = finish_(std::move(all).value());
      if (!out.ok()) return out.status();
      out_ = std::move(out).value();
      done_ = true;
    }
    if (pos_ >= out_.size()) return std::optional<bson::Doc>();
    return std::optional<bson::Doc>(std::move(out_[pos_++]));
  }

 private:
  std::unique_ptr<DocumentSource> input_;
  Finish finish_;
  bool done_ = false;
  std::vector<bson::Doc> out_;
  size_t pos_ = 0;
};

std::vector<std::string> SplitDotted(std::string_view path);

// Copy of `doc` with the field at `parts` (through sub-documents only) set to `v`, or
// removed when `v` is missing. Missing or non-document intermediates become documents.
bson::Doc SetDocPath(bson::View doc, const std::vector<std::string>& parts, const Value& v);

// The value at `parts` through sub-documents only (no array traversal).
bson::Element GetDocPath(bson::View doc, const std::vector<std::string>& parts);

// Every value at `parts` with MongoDB's query semantics (arrays along the path and at
// the end are expanded); `saw_empty_array` reports an empty array on the way.
void CollectPathValues(const bson::Element& e, const std::vector<std::string>& parts, size_t i,
                       std::vector<bson::Element>* out, bool* saw_empty_array);

}  // namespace brook::query::pipeline_internal
