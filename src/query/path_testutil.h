#pragma once
// Test helper for the query layer's unit tests: Extended JSON documents where keys
// spelled with a leading '%' become '$' keys. libbson reads {"$regex": ..},
// {"$type": ..} and {"$options": ..} as legacy Extended JSON, so tests write
// {"%regex": ..} to mean the query operator.
// Thread-safety: pure functions. Test-only; never linked into the server.

#include <gtest/gtest.h>

#include <string>

#include "bson/builder.h"
#include "bson/json.h"

namespace brook::query::testutil {

inline void RewriteKeys(bson::View in, bson::Builder* out, bool is_array) {
  for (const auto& e : in) {
    std::string key(e.key());
    if (!is_array && !key.empty() && key[0] == '%') key[0] = '$';
    if (e.type() == bson::Type::kObject) {
      out->OpenDocument(key);
      RewriteKeys(e.Obj(), out, false);
      out->Close();
    } else if (e.type() == bson::Type::kArray) {
      out->OpenArray(key);
      RewriteKeys(e.Obj(), out, true);
      out->Close();
    } else {
      out->AppendAs(key, e);
    }
  }
}

inline bson::Doc J(const std::string& json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json << ": " << d.status().ToString();
  if (!d.ok()) return bson::Doc();
  bson::Builder b;
  RewriteKeys(d.value().view(), &b, false);
  return b.Done();
}

}  // namespace brook::query::testutil
