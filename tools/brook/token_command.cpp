#include "token_command.h"

#include <cstdio>

#include "bson/builder.h"
#include "bson/json.h"
#include "changestream/resume_token.h"

namespace brook::tools {
namespace {

std::string UuidString(const changestream::CollectionUuid& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[u[i] >> 4]);
    out.push_back(kHex[u[i] & 15]);
  }
  return out;
}

}  // namespace

int RunTokenDecode(const std::string& token) {
  bson::Doc token_doc;
  if (!token.empty() && token.front() == '{') {
    auto parsed = bson::FromJson(token);
    if (!parsed.ok()) {
      std::fprintf(stderr, "brook token decode: %s\n", parsed.status().reason().c_str());
      return 2;
    }
    token_doc = std::move(parsed.value());
  } else {
    bson::Builder b;
    b.AppendString("_data", token);
    token_doc = b.Done();
  }
  auto parsed = changestream::ResumeToken::Parse(token_doc);
  if (!parsed.ok()) {
    std::fprintf(stderr, "brook token decode: %s\n", parsed.status().ToString().c_str());
    return 2;
  }
  auto data = parsed.value().Decode();
  if (!data.ok()) {
    std::fprintf(stderr, "brook token decode: %s\n", data.status().ToString().c_str());
    return 2;
  }
  const auto& d = data.value();
  bson::Builder out;
  out.AppendTimestamp("clusterTime", d.cluster_time);
  out.AppendInt32("version", d.version);
  out.AppendString("tokenType", d.type == changestream::ResumeTokenData::Type::kEvent ? "event" : "highWaterMark");
  out.AppendInt32("txnOpIndex", d.txn_op_index);
  out.AppendBool("fromInvalidate", d.from_invalidate);
  if (d.uuid) {
    out.AppendString("uuid", UuidString(*d.uuid));
  } else {
    out.AppendNull("uuid");
  }
  if (d.event_identifier) out.AppendDocument("eventIdentifier", *d.event_identifier);
  if (d.fragment_num) out.AppendInt32("fragmentNum", *d.fragment_num);
  std::printf("%s\n", bson::ToRelaxedJson(out.Done()).c_str());
  return 0;
}

}  // namespace brook::tools
