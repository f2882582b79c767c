#include "fuzz_util.h"

#include <string>

#include "bson/validate.h"

namespace brook::fuzz {

std::optional<bson::Doc> ValidDoc(const uint8_t* data, size_t size) {
  if (!bson::Validate(data, size).ok()) return std::nullopt;
  return bson::Doc(std::string(reinterpret_cast<const char*>(data), size));
}

uint64_t Walk(bson::View doc) {
  uint64_t h = 0;
  for (const auto& e : doc) {
    h += e.key().size();
    switch (e.type()) {
      case bson::Type::kDouble: h += static_cast<uint64_t>(e.Double() != 0); break;
      case bson::Type::kString:
      case bson::Type::kSymbol:
      case bson::Type::kCode: h += e.Str().size(); break;
      case bson::Type::kObject:
      case bson::Type::kArray: h += Walk(e.Obj()); break;
      case bson::Type::kBinary: {
        auto b = e.Bin();
        h += b.subtype + b.bytes.size();
        break;
      }
      case bson::Type::kObjectId: h += e.Oid().bytes[0]; break;
      case bson::Type::kBool: h += e.Bool(); break;
      case bson::Type::kDate: h += static_cast<uint64_t>(e.DateMillis()); break;
      case bson::Type::kRegex: {
        auto r = e.Re();
        h += r.pattern.size() + r.options.size();
        break;
      }
      case bson::Type::kDbPointer: h += e.DbPtr().ns.size(); break;
      case bson::Type::kCodeWScope: h += e.Str().size() + Walk(e.CodeScope()); break;
      case bson::Type::kInt32: h += static_cast<uint64_t>(e.Int32()); break;
      case bson::Type::kTimestamp: h += e.Ts().secs; break;
      case bson::Type::kInt64: h += static_cast<uint64_t>(e.Int64()); break;
      case bson::Type::kDecimal128: h += e.Decimal().low; break;
      default: break;
    }
  }
  return h;
}

}  // namespace brook::fuzz
