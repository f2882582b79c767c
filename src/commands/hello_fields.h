#pragma once
// Small facts shared by hello and the other admin commands (serverStatus, replSetGetStatus).
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "bson/builder.h"
#include "bson/types.h"

namespace brook::commands {

struct ServiceContext;

// Compressors a client may negotiate in hello, in Brook's order of preference (the
// client's order decides; these are the ones accepted). Names as OP_COMPRESSED's ids.
inline constexpr std::string_view kSupportedCompressors[] = {"snappy", "zstd", "zlib"};
inline constexpr std::string_view kServerVersion = "7.0.0";
inline constexpr std::string_view kBrookVersion = "0.1.0";  // CMake project(VERSION)

// host:port quoted in hello's hosts/me/primary: --advertise, else bind_ip:port.
std::string AdvertisedHost(const ServiceContext& service);
// {ts, t: 1} under `key`.
void AppendOpTime(bson::Builder* b, std::string_view key, bson::Timestamp ts);

}  // namespace brook::commands
