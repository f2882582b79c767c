#include "bson/validate.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "bson/document.h"
#include "bson/types.h"

namespace brook::bson {
namespace {

Status Invalid(std::string what) {
  return Status(ErrorCodes::kInvalidBSON, "Invalid BSON: " + std::move(what));
}

uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool ValidUtf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    // Most strings are ASCII: skip eight such bytes at a time (no high bit among them).
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, sizeof(word));
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

class Validator {
 public:
  explicit Validator(int max_depth) : max_depth_(max_depth) {}

  // Validates the document at [p, p + avail) and returns its length in *out_len.
  Status Document(const uint8_t* p, size_t avail, int depth, uint32_t* out_len) {
    if (depth > max_depth_) {
      return Status(ErrorCodes::kOverflow,
                    "BSONObj exceeds maximum nested object depth: " + std::to_string(max_depth_));
    }
    if (avail < 5) return Invalid("document shorter than 5 bytes");
    uint32_t len = LoadLE32(p);
    if (len < 5 || len > avail) return Invalid("document length " + std::to_string(len) + " is out of bounds");
    if (p[len - 1] != 0) return Invalid("document does not end with a NUL byte");
    size_t pos = 4;
    while (true) {
      if (pos >= len) return Invalid("document is missing its terminator");
      uint8_t type = p[pos];
      if (type == 0) {
        if (pos != len - 1) return Invalid("bytes after the document terminator");
        break;
      }
      ++pos;
      // The key ends before the document's own terminator (p[len - 1]): a key that ran
      // into it would leave the value a negative number of bytes (found by fuzzing).
      const void* nul = std::memchr(p + pos, 0, len - 1 - pos);
      if (!nul) return Invalid("field name is not NUL-terminated");
      size_t key_len = static_cast<const uint8_t*>(nul) - (p + pos);
      if (!ValidUtf8(p + pos, key_len)) return Invalid("field name is not valid UTF-8");
      pos += key_len + 1;
      uint32_t vsize = 0;
      BROOK_RETURN_IF_ERROR(Value(type, p + pos, len - 1 - pos, depth, &vsize));
      pos += vsize;
    }
    *out_len = len;
    return Status::OK();
  }

 private:
  Status String(const uint8_t* v, size_t avail, uint32_t* size) {
    if (avail < 5) return Invalid("string is truncated");
    uint32_t n = LoadLE32(v);
    if (n < 1 || n > avail - 4) return Invalid("string length is out of bounds");
    if (v[4 + n - 1] != 0) return Invalid("string is not NUL-terminated");
    if (!ValidUtf8(v + 4, n - 1)) return Invalid("string is not valid UTF-8");
    *size = 4 + n;
    return Status::OK();
  }

  Status CString(const uint8_t* v, size_t avail, uint32_t* size) {
    const void* nul = std::memchr(v, 0, avail);
    if (!nul) return Invalid("C string is not NUL-terminated");
    size_t n = static_cast<const uint8_t*>(nul) - v;
    if (!ValidUtf8(v, n)) return Invalid("C string is not valid UTF-8");
    *size = static_cast<uint32_t>(n + 1);
    return Status::OK();
  }

  Status Fixed(size_t need, size_t avail, uint32_t* size) {
    if (avail < need) return Invalid("value is truncated");
    *size = static_cast<uint32_t>(need);
    return Status::OK();
  }

  Status Value(uint8_t type, const uint8_t* v, size_t avail, int depth, uint32_t* size) {
    switch (static_cast<Type>(static_cast<int8_t>(type))) {
      case Type::kDouble:
      case Type::kDate:
      case Type::kTimestamp:
      case Type::kInt64: return Fixed(8, avail, size);
      case Type::kInt32: return Fixed(4, avail, size);
      case Type::kDecimal128: return Fixed(16, avail, size);
      case Type::kObjectId: return Fixed(12, avail, size);
      case Type::kBool:
        BROOK_RETURN_IF_ERROR(Fixed(1, avail, size));
        if (v[0] > 1) return Invalid("boolean is neither 0 nor 1");
        return Status::OK();
      case Type::kUndefined:
      case Type::kNull:
      case Type::kMinKey:
      case Type::kMaxKey: *size = 0; return Status::OK();
      case Type::kString:
      case Type::kCode:
      case Type::kSymbol: return String(v, avail, size);
      case Type::kObject:
      case Type::kArray: return Document(v, avail, depth + 1, size);
      case Type::kBinary: {
        if (avail < 5) return Invalid("binary is truncated");
        uint32_t n = LoadLE32(v);
        if (n > avail - 5) return Invalid("binary length is out of bounds");
        if (v[4] == 0x02) {
          if (n < 4 || LoadLE32(v + 5) != n - 4) return Invalid("old binary has a bad inner length");
        }
        *size = 5 + n;
        return Status::OK();
      }
      case Type::kRegex: {
        uint32_t a = 0, b = 0;
        BROOK_RETURN_IF_ERROR(CString(v, avail, &a));
        BROOK_RETURN_IF_ERROR(CString(v + a, avail - a, &b));
        *size = a + b;
        return Status::OK();
      }
      case Type::kDbPointer: {
        uint32_t s = 0;
        BROOK_RETURN_IF_ERROR(String(v, avail, &s));
        if (avail - s < 12) return Invalid("DBPointer is truncated");
        *size = s + 12;
        return Status::OK();
      }
      case Type::kCodeWScope: {
        if (avail < 4 + 5 + 5) return Invalid("code with scope is truncated");
        uint32_t total = LoadLE32(v);
        if (total < 14 || total > avail) return Invalid("code with scope length is out of bounds");
        uint32_t s = 0, d = 0;
        BROOK_RETURN_IF_ERROR(String(v + 4, total - 4, &s));
        BROOK_RETURN_IF_ERROR(Document(v + 4 + s, total - 4 - s, depth + 1, &d));
        if (4 + s + d != total) return Invalid("code with scope length does not match its parts");
        *size = total;
        return Status::OK();
      }
      case Type::kEOO: break;
    }
    return Invalid("unknown element type " + std::to_string(type));
  }


  int max_depth_;
};

}  // namespace

Status Validate(const uint8_t* data, size_t len, int max_depth) {
  Validator v(max_depth);
  uint32_t doc_len = 0;
  BROOK_RETURN_IF_ERROR(v.Document(data, len, 1, &doc_len));
  if (doc_len != len) return Invalid("trailing bytes after the document");
  return Status::OK();
}

int Depth(const uint8_t* data) {
  int deepest = 0;
  for (const Element& e : View(data)) {
    if (e.type() == Type::kObject || e.type() == Type::kArray) {
      deepest = std::max(deepest, Depth(e.value()));
    } else if (e.type() == Type::kCodeWScope) {
      deepest = std::max(deepest, Depth(e.CodeScope().data()));
    }
  }
  return deepest + 1;
}

}  // namespace brook::bson
