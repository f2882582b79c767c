#include "commands/sessions.h"

#include <chrono>

#include "bson/builder.h"
#include "commands/operation_context.h"
#include "storage/engine.h"

namespace brook::commands {
namespace {

constexpr std::string_view kPrefix = "rw";

void AppendSigned64(int64_t v, std::string* out) {
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(u >> (8 * i)));
}

void AppendSigned32(int32_t v, std::string* out) {
  uint32_t u = static_cast<uint32_t>(v) ^ (uint32_t{1} << 31);
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(u >> (8 * i)));
}

int64_t ReadSigned64(std::string_view b) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(b[i]);
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

std::string SessionPrefix(const std::string& lsid_id) {
  std::string k(kPrefix);
  k += lsid_id;
  return k;
}

}  // namespace

std::string RetryableStmtKey(const RetryableStmt& stmt) {
  std::string k = SessionPrefix(stmt.lsid_id);
  AppendSigned64(stmt.txn_number, &k);
  AppendSigned32(stmt.stmt_id, &k);
  return k;
}

SessionCatalog::SessionCatalog(storage::Engine* engine) : engine_(engine) {}

StatusWith<std::string> SessionCatalog::LsidKey(bson::View lsid) {
  auto id = lsid["id"];
  if (id.type() != bson::Type::kBinary || id.Bin().subtype != 4 || id.Bin().bytes.size() != 16) {
    return Status(ErrorCodes::kBadValue, "lsid.id must be a UUID");
  }
  return std::string(id.Bin().bytes);
}

StatusWith<int64_t> SessionCatalog::LoadHighest(const std::string& lsid_id) {
  std::string prefix = SessionPrefix(lsid_id);
  std::string upper = prefix;
  upper.append(12, '\xff');
  auto snap = engine_->GetSnapshot();
  auto it = snap->NewIterator(storage::Family::kSessions, prefix, upper + '\xff');
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().substr(0, prefix.size()) == prefix &&
      it->key().size() == prefix.size() + 12) {
    return ReadSigned64(it->key().substr(prefix.size(), 8));
  }
  BROOK_RETURN_IF_ERROR(it->status());
  return int64_t{-1};
}

StatusWith<bool> SessionCatalog::CheckAndAdvanceTxnNumber(const std::string& lsid_id,
                                                          int64_t txn_number) {
  std::lock_guard lock(mu_);
  auto it = highest_.find(lsid_id);
  if (it == highest_.end()) {
    auto loaded = LoadHighest(lsid_id);
    if (!loaded.ok()) return loaded.status();
    it = highest_.emplace(lsid_id, TxnNumberState{loaded.value(), false}).first;
  }
  TxnNumberState& state = it->second;
  if (txn_number < state.highest) {
    return Status(ErrorCodes::kTransactionTooOld,
                  "Cannot start transaction " + std::to_string(txn_number) +
                      " on session because a newer transaction " + std::to_string(state.highest) +
                      " has already started");
  }
  const bool is_new = txn_number > state.highest;
  state.repeated = !is_new;
  state.highest = txn_number;
  return is_new;
}

bool SessionCatalog::OnlyAttempt(const std::string& lsid_id, int64_t txn_number) {
  std::lock_guard lock(mu_);
  auto it = highest_.find(lsid_id);
  return it != highest_.end() && it->second.highest == txn_number && !it->second.repeated;
}

StatusWith<std::optional<bson::Doc>> SessionCatalog::FindExecuted(storage::Snapshot& snap,
                                                                  const RetryableStmt& stmt) {
  auto r = snap.Get(storage::Family::kSessions, RetryableStmtKey(stmt));
  if (!r.ok()) {
    if (r.status() == ErrorCodes::kNoSuchKey) return std::optional<bson::Doc>();
    return r.status();
  }
  bson::View record(r.value().data());
  auto result = record["result"];
  if (!result.IsObject()) return std::optional<bson::Doc>();
  return std::optional<bson::Doc>(bson::Doc::CopyOf(result.Obj()));
}

void SessionCatalog::RecordExecuted(storage::WriteUnit& unit, const RetryableStmt& stmt,
                                    bson::View result) {
  bson::Builder b;
  b.AppendDocument("result", result);
  unit.Put(storage::Family::kSessions, RetryableStmtKey(stmt), b.Done().bytes());
}

void SessionCatalog::Forget(const std::string& lsid_id) {
  std::lock_guard lock(mu_);
  highest_.erase(lsid_id);
}

void SessionCatalog::NoteUse(const std::string& lsid_id, int64_t now_millis) {
  std::lock_guard<std::mutex> lock(local_mu_);
  local_[lsid_id] = now_millis;
  if (local_.size() > kMaxLocalSessions) {
    auto oldest = local_.begin();
    for (auto it = local_.begin(); it != local_.end(); ++it) {
      if (it->second < oldest->second) oldest = it;
    }
    local_.erase(oldest);
  }
}

void SessionCatalog::EndLocal(const std::string& lsid_id) {
  std::lock_guard<std::mutex> lock(local_mu_);
  local_.erase(lsid_id);
}

std::vector<bson::Doc> SessionCatalog::ListLocal() const {
  // SHA-256 of the empty string: the uid of sessions without authentication.
  static constexpr uint8_t kNoUserUid[32] = {
      0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
      0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::lock_guard<std::mutex> lock(local_mu_);
  std::vector<bson::Doc> out;
  out.reserve(local_.size());
  for (const auto& [id, last_use] : local_) {
    if (now - last_use > kLocalSessionTimeoutMillis) continue;  // expired
    bson::Builder b;
    b.OpenDocument("_id");
    b.AppendBinary("id", 4, id);
    b.AppendBinary("uid", 0, std::string_view(reinterpret_cast<const char*>(kNoUserUid), 32));
    b.Close();
    b.AppendDate("lastUse", last_use);
    out.push_back(b.Done());
  }
  return out;
}

void NoteSessionUse(OperationContext& op) {
  if (!op.lsid || !op.service().sessions) return;
  auto key = SessionCatalog::LsidKey(*op.lsid);
  if (!key.ok()) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  op.service().sessions->NoteUse(key.value(), now);
}

}  // namespace brook::commands
