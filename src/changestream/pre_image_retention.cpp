#include "changestream/pre_image_retention.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "bson/builder.h"
#include "bson/validate.h"
#include "storage/engine.h"

namespace brook::changestream {
namespace {

constexpr std::string_view kPreAndPostImages = "preAndPostImages";
constexpr std::string_view kExpireAfterSeconds = "expireAfterSeconds";
constexpr std::string_view kOff = "off";
// Deletes per write unit: bounds a unit's memory when a long "off" period ends.
constexpr size_t kDeletesPerUnit = 1000;
constexpr size_t kPreimageKeyBytes = 16 + 8 + 4;

Status Bad(std::string reason) { return Status(ErrorCodes::kBadValue, std::move(reason)); }

// The smallest key above every key that starts with `prefix` ("" when there is none).
std::string Successor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xFF) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace

StatusWith<ChangeStreamOptions> ParseChangeStreamOptions(bson::Element value) {
  if (!value.IsObject()) {
    return Bad("changeStreamOptions must be an object, found " + std::string(bson::TypeName(value.type())));
  }
  bson::View doc = value.Obj();
  if (doc.empty()) return Bad("changeStreamOptions must not be empty; set preAndPostImages");
  ChangeStreamOptions out;
  bool have_images = false;
  for (const auto& e : doc) {
    if (e.key() != kPreAndPostImages) {
      return Bad("Unknown field 'changeStreamOptions." + std::string(e.key()) + "'");
    }
    have_images = true;
    if (!e.IsObject()) return Bad("preAndPostImages must be an object");
    bson::View images = e.Obj();
    if (images.empty()) return Bad("preAndPostImages must specify expireAfterSeconds");
    for (const auto& f : images) {
      if (f.key() != kExpireAfterSeconds) {
        return Bad("Unknown field 'changeStreamOptions.preAndPostImages." + std::string(f.key()) + "'");
      }
      if (f.type() == bson::Type::kString) {
        if (f.Str() != kOff) {
          return Bad("Invalid value for preAndPostImages.expireAfterSeconds: '" + std::string(f.Str()) +
                     "'. Expected 'off' or a positive number of seconds");
        }
        out.expire_after_seconds.reset();
      } else if (f.IsNumber()) {
        double d = f.NumberDouble();
        if (!(d >= 1) || d != std::floor(d) || d > 9.2e18) {
          return Bad("preAndPostImages.expireAfterSeconds must be a positive integer or 'off', got " +
                     f.ToString());
        }
        out.expire_after_seconds = f.NumberInt64();
      } else {
        return Bad("preAndPostImages.expireAfterSeconds must be a number or 'off', found " +
                   std::string(bson::TypeName(f.type())));
      }
    }
  }
  if (!have_images) return Bad("changeStreamOptions must set preAndPostImages");
  return out;
}

bson::Doc ChangeStreamOptionsToBson(const ChangeStreamOptions& options) {
  bson::Builder b;
  b.AppendString("_id", kChangeStreamOptionsName);
  b.AppendTimestamp("clusterParameterTime", options.cluster_parameter_time);
  b.OpenDocument(kPreAndPostImages);
  if (options.expire_after_seconds) {
    b.AppendInt64(kExpireAfterSeconds, *options.expire_after_seconds);
  } else {
    b.AppendString(kExpireAfterSeconds, kOff);
  }
  b.Close();
  return b.Done();
}

StatusWith<ChangeStreamOptions> LoadChangeStreamOptions(storage::Engine* engine) {
  auto snap = engine->GetSnapshot();
  auto raw = snap->Get(storage::Family::kCatalog, kChangeStreamOptionsKey);
  if (!raw.ok()) {
    if (raw.status() == ErrorCodes::kNoSuchKey) return ChangeStreamOptions{};
    return raw.status();
  }
  const std::string& bytes = raw.value();
  BROOK_RETURN_IF_ERROR(bson::Validate(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  bson::Doc doc(std::move(raw).value());
  ChangeStreamOptions out;
  bson::Element ts = doc["clusterParameterTime"];
  if (ts.type() == bson::Type::kTimestamp) out.cluster_parameter_time = ts.Ts();
  bson::Element images = doc[kPreAndPostImages];
  if (images.IsObject()) {
    bson::Element expire = images.Obj()[kExpireAfterSeconds];
    if (expire.IsNumber()) out.expire_after_seconds = expire.NumberInt64();
  }
  return out;
}

StatusWith<bson::Timestamp> SaveChangeStreamOptions(storage::Engine* engine, const ChangeStreamOptions& options) {
  bson::Doc doc = ChangeStreamOptionsToBson(options);
  auto unit = engine->BeginWriteUnit();
  unit->Put(storage::Family::kCatalog, kChangeStreamOptionsKey, doc.bytes());
  // A no-op entry in the same batch gives the write a timestamp, so the caller can wait
  // for it to be durable like any other write.
  bson::Builder noop;
  noop.AppendString("op", "n");
  noop.AppendString("ns", "");
  noop.OpenDocument("o").AppendString("msg", "setClusterParameter changeStreamOptions").Close();
  storage::OplogDraft draft;
  draft.body = noop.Done();
  unit->AddOplog(std::move(draft));
  auto committed = engine->Commit(*unit);
  if (!committed.ok()) return committed.status();
  return committed.value().first_ts;
}

StatusWith<size_t> RemovePreImagesBefore(storage::Engine* engine, bson::Timestamp cutoff) {
  auto snap = engine->GetSnapshot();
  auto it = snap->NewIterator(storage::Family::kPreimages, "", "");
  size_t removed = 0;
  size_t in_unit = 0;
  std::unique_ptr<storage::WriteUnit> unit;
  auto flush = [&]() -> Status {
    if (!unit) return Status::OK();
    auto committed = engine->Commit(*unit);
    unit.reset();
    in_unit = 0;
    return committed.ok() ? Status::OK() : committed.status();
  };
  it->SeekToFirst();
  while (it->Valid()) {
    std::string_view key = it->key();
    if (key.size() != kPreimageKeyBytes) {
      it->Next();  // not a pre-image key; never written by Brook
      continue;
    }
    bson::Timestamp ts = storage::DecodeOplogKey(key.substr(16, 8));
    if (ts < cutoff) {
      if (!unit) unit = engine->BeginWriteUnit();
      unit->Delete(storage::Family::kPreimages, key);
      ++removed;
      if (++in_unit >= kDeletesPerUnit) BROOK_RETURN_IF_ERROR(flush());
      it->Next();
      continue;
    }
    // Keys of one collection sort by time: the rest of this collection is newer.
    std::string next = Successor(std::string(key.substr(0, 16)));
    if (next.empty()) break;
    it->Seek(next);
  }
  BROOK_RETURN_IF_ERROR(it->status());
  BROOK_RETURN_IF_ERROR(flush());
  return removed;
}

StatusWith<size_t> ExpirePreImages(storage::Engine* engine, int64_t now_secs) {
  auto options = LoadChangeStreamOptions(engine);
  if (!options.ok()) return options.status();
  if (!options.value().expire_after_seconds) return size_t{0};
  int64_t cutoff_secs = now_secs - *options.value().expire_after_seconds;
  if (cutoff_secs <= 0) return size_t{0};
  if (cutoff_secs > int64_t{UINT32_MAX}) cutoff_secs = UINT32_MAX;
  return RemovePreImagesBefore(engine, bson::Timestamp{static_cast<uint32_t>(cutoff_secs), 0});
}

}  // namespace brook::changestream
