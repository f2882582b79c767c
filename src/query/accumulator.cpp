#include "query/accumulator.h"

#include <cmath>

#include "query/expression_internal.h"

namespace brook::query {
namespace {

using expr::ArithNumbers;
using expr::ArithOp;

class SumAcc : public Accumulator {
 public:
  Status Process(const Value& v) override {
    if (v.IsNumber()) total_ = ArithNumbers(ArithOp::kAdd, total_, v);
    return Status::OK();
  }
  Value Finish() const override { return total_; }

 private:
  Value total_ = Value::Int32(0);
};

class AvgAcc : public Accumulator {
 public:
  Status Process(const Value& v) override {
    if (!v.IsNumber()) return Status::OK();
    if (v.type() == bson::Type::kDecimal128 || decimal_) {
      if (!decimal_) {
        dec_sum_ = static_cast<expr::Dec128>(sum_);
        decimal_ = true;
      }
      dec_sum_ += expr::ElementToDec(v.element());
    } else {
      sum_ += static_cast<long double>(v.element().type() == bson::Type::kInt64
                                           ? static_cast<long double>(v.element().Int64())
                                           : v.element().NumberDouble());
    }
    ++count_;
    return Status::OK();
  }
  Value Finish() const override {
    if (count_ == 0) return Value::Null();
    if (decimal_) return Value::Decimal(expr::FromDec(dec_sum_ / static_cast<expr::Dec128>(count_)));
    return Value::Double(static_cast<double>(sum_ / count_));
  }

 private:
  long double sum_ = 0;
  expr::Dec128 dec_sum_ = 0;
  bool decimal_ = false;
  int64_t count_ = 0;
};

class MinMaxAcc : public Accumulator {
 public:
  MinMaxAcc(bool is_max, const bson::StringComparator* c) : is_max_(is_max), collator_(c) {}
  Status Process(const Value& v) override {
    if (v.nullish()) return Status::OK();
    if (best_.missing()) {
      best_ = v;
      return Status::OK();
    }
    int c = CompareValue(v, best_, collator_);
    if (is_max_ ? c > 0 : c < 0) best_ = v;
    return Status::OK();
  }
  Value Finish() const override { return best_.missing() ? Value::Null() : best_; }

 private:
  bool is_max_;
  const bson::StringComparator* collator_;
  Value best_;
};

class FirstLastAcc : public Accumulator {
 public:
  explicit FirstLastAcc(bool is_last) : is_last_(is_last) {}
  Status Process(const Value& v) override {
    if (!seen_ || is_last_) value_ = v.missing() ? Value::Null() : v;
    seen_ = true;
    return Status::OK();
  }
  Value Finish() const override { return seen_ ? value_ : Value::Null(); }

 private:
  bool is_last_;
  bool seen_ = false;
  Value value_;
};

class PushAcc : public Accumulator {
 public:
  PushAcc(bool unique, const bson::StringComparator* c) : unique_(unique), collator_(c) {}
  Status Process(const Value& v) override {
    if (v.missing()) return Status::OK();
    if (unique_) {
      for (const Value& x : items_) {
        if (ValueEquals(x, v, collator_)) return Status::OK();
      }
    }
    items_.push_back(v);
    return Status::OK();
  }
  Value Finish() const override { return Value::ArrayOf(items_); }

 private:
  bool unique_;
  const bson::StringComparator* collator_;
  std::vector<Value> items_;
};

class MergeObjectsAcc : public Accumulator {
 public:
  Status Process(const Value& v) override {
    if (v.nullish()) return Status::OK();
    if (!v.IsObject()) {
      return Status(40400, "$mergeObjects requires object inputs, but input " + v.ToString() +
                               " is of type " + expr::TypeNameOf(v));
    }
    for (const bson::Element& e : v.element().Obj()) {
      bool replaced = false;
      for (auto& f : fields_) {
        if (f.first == e.key()) {
          f.second = Value::FromElement(e);
          replaced = true;
        }
      }
      if (!replaced) fields_.emplace_back(std::string(e.key()), Value::FromElement(e));
    }
    return Status::OK();
  }
  Value Finish() const override {
    bson::Builder b;
    b.OpenDocument("");
    for (const auto& [k, v] : fields_) v.AppendTo(&b, k);
    b.Close();
    return Value::FromSingleFieldDoc(b.Done());
  }

 private:
  std::vector<std::pair<std::string, Value>> fields_;
};

// Welford's running variance.
class StdDevAcc : public Accumulator {
 public:
  explicit StdDevAcc(bool sample) : sample_(sample) {}
  Status Process(const Value& v) override {
    if (!v.IsNumber()) return Status::OK();
    double x = v.element().NumberDouble();
    ++n_;
    double delta = x - mean_;
    mean_ += delta / static_cast<double>(n_);
    m2_ += delta * (x - mean_);
    return Status::OK();
  }
  Value Finish() const override {
    int64_t denom = sample_ ? n_ - 1 : n_;
    if (denom <= 0) return Value::Null();
    return Value::Double(std::sqrt(m2_ / static_cast<double>(denom)));
  }

 private:
  bool sample_;
  int64_t n_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

}  // namespace

bool IsAccumulatorName(std::string_view op) {
  return MakeAccumulator(op, nullptr) != nullptr;
}

std::unique_ptr<Accumulator> MakeAccumulator(std::string_view op,
                                             const bson::StringComparator* collator) {
  if (op == "$sum" || op == "$count") return std::make_unique<SumAcc>();
  if (op == "$avg") return std::make_unique<AvgAcc>();
  if (op == "$min") return std::make_unique<MinMaxAcc>(false, collator);
  if (op == "$max") return std::make_unique<MinMaxAcc>(true, collator);
  if (op == "$first") return std::make_unique<FirstLastAcc>(false);
  if (op == "$last") return std::make_unique<FirstLastAcc>(true);
  if (op == "$push") return std::make_unique<PushAcc>(false, collator);
  if (op == "$addToSet") return std::make_unique<PushAcc>(true, collator);
  if (op == "$mergeObjects") return std::make_unique<MergeObjectsAcc>();
  if (op == "$stdDevPop") return std::make_unique<StdDevAcc>(false);
  if (op == "$stdDevSamp") return std::make_unique<StdDevAcc>(true);
  return nullptr;
}

}  // namespace brook::query
