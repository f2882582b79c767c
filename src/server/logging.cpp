#include "server/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>

#include "bson/json.h"
#include "commands/log_buffer.h"

namespace brook::server {
namespace {

std::shared_ptr<spdlog::logger>& Logger() {
  static auto* logger = new std::shared_ptr<spdlog::logger>();
  return *logger;
}

std::atomic<commands::LogBuffer*> g_buffer{nullptr};
std::atomic<bool> g_startup{true};

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// libbson pads its JSON ("{ \"a\" : 1 }"); MongoDB's lines are compact. Whitespace
// outside strings carries no meaning in JSON, so dropping it is safe.
std::string CompactJson(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    if (c == '"') in_string = true;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string FormatLogLine(int64_t unix_millis, char severity, std::string_view component, int id,
                          std::string_view ctx, std::string_view msg, bson::View attr) {
  std::time_t secs = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[64];
  std::snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_millis % 1000));
  std::string line;
  line.reserve(160 + msg.size() + attr.size() * 2);
  line.append("{\"t\":{\"$date\":\"").append(date).append("\"},\"s\":");
  AppendJsonString(&line, std::string_view(&severity, 1));
  line.append(",\"c\":");
  AppendJsonString(&line, component);
  line.append(",\"id\":").append(std::to_string(id)).append(",\"ctx\":");
  AppendJsonString(&line, ctx);
  line.append(",\"msg\":");
  AppendJsonString(&line, msg);
  if (!attr.empty()) line.append(",\"attr\":").append(CompactJson(bson::ToRelaxedJson(attr)));
  line.push_back('}');
  return line;
}

Status InitLogging(const std::string& logpath, commands::LogBuffer* buffer) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (logpath.empty()) {
      logger = std::make_shared<spdlog::logger>(
          "brookd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      logger = std::make_shared<spdlog::logger>(
          "brookd", std::make_shared<spdlog::sinks::basic_file_sink_mt>(logpath, false));
    }
    // The line is fully formatted by FormatLogLine; spdlog only writes it.
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    Logger() = std::move(logger);
  } catch (const std::exception& e) {
    return Status(ErrorCodes::kBadValue, "cannot open log file " + logpath + ": " + e.what());
  }
  g_buffer.store(buffer);
  g_startup.store(true);
  return Status::OK();
}

void ShutdownLogging() {
  if (Logger()) Logger()->flush();
  g_buffer.store(nullptr);
}

void MarkStartupComplete() { g_startup.store(false); }

void Log(char severity, std::string_view component, int id, std::string_view ctx,
         std::string_view msg, bson::View attr) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string line = FormatLogLine(now, severity, component, id, ctx, msg, attr);
  if (auto* buffer = g_buffer.load()) {
    if (severity == 'W' && g_startup.load()) {
      buffer->AddStartupWarning(line);
    } else {
      buffer->Add(line);
    }
  }
  if (auto& logger = Logger()) {
    logger->info(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace brook::server
