#pragma once
// Structured logging in MongoDB's JSON-lines format, through spdlog.
//
// Owns: the process logger. Every line is one JSON object:
//   {"t":{"$date":"2026-01-02T03:04:05.678+00:00"},"s":"I","c":"NETWORK","id":22943,
//    "ctx":"listener","msg":"Connection accepted","attr":{...}}
// (severity I/W/E/D, component, a numeric id as MongoDB's where one exists, the thread or
// connection context, the message and optional attributes). Each line also goes into
// the LogBuffer that getLog reads; warnings logged before "Waiting for connections" are
// startup warnings as well.
// Thread-safety: Log() may be called from any thread once InitLogging returned.

#include <string>
#include <string_view>

#include "bson/document.h"
#include "util/status.h"

namespace brook::commands {
class LogBuffer;
}

namespace brook::server {

// logpath empty: stderr. `buffer` may be null. Call once, before other threads start;
// it begins the startup phase (warnings count as startup warnings until
// MarkStartupComplete).
Status InitLogging(const std::string& logpath, commands::LogBuffer* buffer);
// Flushes and detaches from the LogBuffer (which may be destroyed afterwards).
void ShutdownLogging();
// After startup: warnings no longer count as startup warnings.
void MarkStartupComplete();

// severity: 'I', 'W', 'E', 'F' or 'D'. attr: a BSON document rendered as relaxed
// Extended JSON, or empty for no "attr".
void Log(char severity, std::string_view component, int id, std::string_view ctx,
         std::string_view msg, bson::View attr = bson::View());

// The line Log() would write (without the trailing newline), for tests.
std::string FormatLogLine(int64_t unix_millis, char severity, std::string_view component, int id,
                          std::string_view ctx, std::string_view msg, bson::View attr);

}  // namespace brook::server
