#pragma once
// Extended JSON in and out, through libbson.
//
// Owns: converting between BSON and MongoDB Extended JSON v2 (relaxed and canonical).
// Parsing accepts both forms and legacy shell forms libbson accepts.
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "bson/document.h"
#include "util/status.h"

namespace brook::bson {

StatusWith<Doc> FromJson(std::string_view json);
std::string ToRelaxedJson(View doc);
std::string ToCanonicalJson(View doc);

}  // namespace brook::bson
