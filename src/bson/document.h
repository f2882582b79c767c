#pragma once
// Read side of BSON: Element (one field), View (a document or array that someone else
// owns) and Doc (an owning document).
//
// Owns: parsing of BSON bytes that are already known to be valid. Bytes from a client
// must pass Validate() (validate.h) before they are wrapped in a View; everything below
// the wire layer may then read without bounds checks. An Element and a View are only
// valid while the bytes they point into live.
// Thread-safety: all three are immutable values; a Doc may be shared read-only.

#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "bson/types.h"

namespace brook::bson {

class View;

class Element {
 public:
  Element() = default;  // the missing element: type() == kEOO
  // `data` points at the type byte of a valid element.
  explicit Element(const uint8_t* data);

  bool missing() const { return data_ == nullptr || type() == Type::kEOO; }
  explicit operator bool() const { return !missing(); }
  Type type() const { return data_ ? static_cast<Type>(static_cast<int8_t>(data_[0])) : Type::kEOO; }
  std::string_view key() const {
    return data_ ? std::string_view(reinterpret_cast<const char*>(data_ + 1), key_size_)
                 : std::string_view();
  }

  // Typed accessors: the caller has checked type(). Each reads the value bytes.
  double Double() const;
  int32_t Int32() const;
  int64_t Int64() const;
  bool Bool() const { return value()[0] != 0; }
  int64_t DateMillis() const { return Int64Raw(); }
  Timestamp Ts() const;
  ObjectId Oid() const;
  Decimal128 Decimal() const;
  std::string_view Str() const;  // String, Symbol and Code
  // Object and Array (an array is a document keyed "0".."n"); the empty document for
  // any other type or a missing element.
  View Obj() const;
  View CodeScope() const;        // CodeWScope's scope
  struct Binary {
    uint8_t subtype;
    std::string_view bytes;
  };
  Binary Bin() const;
  struct Regex {
    std::string_view pattern;
    std::string_view options;
  };
  Regex Re() const;
  struct DbPointer {
    std::string_view ns;
    ObjectId id;
  };
  DbPointer DbPtr() const;

  bool IsNumber() const;
  bool IsObject() const { return type() == Type::kObject; }
  bool IsArray() const { return type() == Type::kArray; }
  bool IsNullish() const { return type() == Type::kNull || type() == Type::kUndefined; }
  // Any number as a double (Decimal128 rounds). 0 for non-numbers.
  double NumberDouble() const;
  // Any number truncated toward zero into an int64 (saturating). 0 for non-numbers.
  int64_t NumberInt64() const;
  // The number as an int64 when it holds an integral value that fits; nullopt otherwise.
  std::optional<int64_t> ExactInt64() const;
  // Truthiness as MongoDB's expressions define it: false, null, undefined, missing and
  // numeric zero are false; everything else is true.
  bool Truthy() const;

  // Raw bytes of the whole element (type, key, value) and of the value alone.
  const uint8_t* raw() const { return data_; }
  size_t raw_size() const { return data_ ? 1 + key_size_ + 1 + value_size_ : 0; }
  const uint8_t* value() const { return data_ + 1 + key_size_ + 1; }
  size_t value_size() const { return value_size_; }

  std::string ToString() const;  // relaxed Extended JSON of the value, for messages

 private:
  int64_t Int64Raw() const;
  const uint8_t* data_ = nullptr;
  uint32_t key_size_ = 0;
  uint32_t value_size_ = 0;
};

class View {
 public:
  View();  // the empty document
  // `data` points at a valid BSON document (its int32 length first).
  explicit View(const uint8_t* data) : data_(data) {}
  explicit View(const char* data) : data_(reinterpret_cast<const uint8_t*>(data)) {}

  const uint8_t* data() const { return data_; }
  size_t size() const;
  bool empty() const { return size() <= 5; }
  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(data_), size());
  }

  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    using pointer = const Element*;
    using reference = const Element&;
    Iterator() = default;
    explicit Iterator(const uint8_t* pos) : pos_(pos), current_(pos) {}
    const Element& operator*() const { return current_; }
    const Element* operator->() const { return &current_; }
    Iterator& operator++() {
      pos_ += current_.raw_size();
      current_ = Element(pos_);
      return *this;
    }
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }

   private:
    const uint8_t* pos_ = nullptr;
    Element current_;
  };
  Iterator begin() const { return Iterator(data_ + 4); }
  Iterator end() const { return Iterator(data_ + size() - 1); }

  // First field named `key`, or the missing Element.
  Element operator[](std::string_view key) const { return Get(key); }
  Element Get(std::string_view key) const;
  // Follows a dotted path through embedded documents only (no array traversal; the
  // query layer owns MongoDB's array semantics). "a.b" on {a: {b: 1}} gives 1.
  Element GetPath(std::string_view dotted) const;
  Element first() const { return *begin(); }
  size_t CountFields() const;
  bool HasField(std::string_view key) const { return !Get(key).missing(); }

  std::string ToString() const;  // relaxed Extended JSON

 private:
  const uint8_t* data_;
};

// An owning document. Moves are cheap; copies copy the bytes.
class Doc {
 public:
  Doc();  // the empty document
  // Takes bytes of a valid BSON document.
  explicit Doc(std::string bytes) : bytes_(std::move(bytes)) {}
  static Doc CopyOf(View v) { return Doc(std::string(v.bytes())); }

  View view() const { return View(bytes_.data()); }
  operator View() const { return view(); }  // NOLINT: a Doc is usable wherever a View is
  const std::string& bytes() const { return bytes_; }
  std::string Release() && { return std::move(bytes_); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return view().empty(); }
  Element operator[](std::string_view key) const { return view().Get(key); }
  View::Iterator begin() const { return view().begin(); }
  View::Iterator end() const { return view().end(); }
  std::string ToString() const { return view().ToString(); }

 private:
  std::string bytes_;
};

// Binary equality of two documents' bytes (field order and types matter).
inline bool BinaryEqual(View a, View b) { return a.bytes() == b.bytes(); }

}  // namespace brook::bson
