#include "watch/status_reporter.h"

#include <cmath>
#include <ctime>

namespace brook::watch {
namespace {

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string HumanCount(int64_t n) {
  std::string s = std::to_string(n);
  std::string out;
  int k = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it, ++k) {
    if (k && k % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
  }
  return out;
}

}  // namespace

std::string RenderTtyLine(const StatusSnapshot& s) {
  std::string line = "brook watch: " + s.state + " | " + HumanCount(s.total_events) + " events | " +
                     Fixed(s.events_per_sec, s.events_per_sec < 10 ? 1 : 0) + " ev/s | lag ";
  line += s.lag_secs ? Fixed(*s.lag_secs, 0) + "s" : "?";
  return line;
}

std::string RenderJsonLine(const StatusSnapshot& s, std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm;
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out = "{\"status\":\"" + JsonEscape(s.state) + "\",\"events\":" + std::to_string(s.total_events) +
                    ",\"eventsPerSec\":" + Fixed(s.events_per_sec, 1) + ",\"lagSecs\":";
  out += s.lag_secs ? Fixed(*s.lag_secs, 0) : "null";
  out += ",\"checkpoint\":\"" + JsonEscape(s.checkpoint) + "\",\"time\":\"" + when + "\"}";
  return out;
}

StatusReporter::StatusReporter(Mode mode, std::chrono::milliseconds interval, FILE* out)
    : mode_(mode), interval_(interval), out_(out) {
  last_report_ = Clock::now();
  next_report_ = last_report_ + interval_;
  snap_.state = "starting";
}

void StatusReporter::OnEvents(int64_t n, std::optional<uint32_t> last_event_secs) {
  if (n <= 0) return;
  snap_.total_events += n;
  if (last_event_secs) last_event_secs_ = last_event_secs;
  caught_up_ = false;
}

void StatusReporter::Compute(Clock::time_point now) {
  double secs = std::chrono::duration<double>(now - last_report_).count();
  if (secs > 0) snap_.events_per_sec = static_cast<double>(snap_.total_events - events_at_last_report_) / secs;
  if (caught_up_) {
    snap_.lag_secs = 0;
  } else if (server_secs_ && last_event_secs_) {
    snap_.lag_secs = *server_secs_ > *last_event_secs_ ? static_cast<double>(*server_secs_ - *last_event_secs_) : 0.0;
  }
  events_at_last_report_ = snap_.total_events;
  last_report_ = now;
}

void StatusReporter::Print(Clock::time_point) {
  if (mode_ == Mode::kTty) {
    std::fprintf(out_, "\r%s\x1b[K", RenderTtyLine(snap_).c_str());
    printed_tty_ = true;
  } else if (mode_ == Mode::kJson) {
    std::fprintf(out_, "%s\n", RenderJsonLine(snap_, std::chrono::system_clock::now()).c_str());
  }
  std::fflush(out_);
}

bool StatusReporter::MaybeReport(Clock::time_point now) {
  if (mode_ == Mode::kOff || now < next_report_) return false;
  Compute(now);
  Print(now);
  next_report_ = now + interval_;
  return true;
}

void StatusReporter::Log(const std::string& msg) {
  if (mode_ == Mode::kTty && printed_tty_) {
    std::fprintf(out_, "\r\x1b[K");
    printed_tty_ = false;
  }
  std::fprintf(out_, "brook watch: %s\n", msg.c_str());
  std::fflush(out_);
}

void StatusReporter::Finish(Clock::time_point now) {
  if (mode_ == Mode::kOff) return;
  Compute(now);
  Print(now);
  if (mode_ == Mode::kTty && printed_tty_) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace brook::watch
