#pragma once
// Small helpers the benchmark programs share: percentiles, a local process's CPU time and
// resident memory from /proc, a C-driver client and ping, and the host and port of a
// connection string.

#include <mongoc/mongoc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// The p-quantile (0..1) of `v`, which it reorders; 0 when empty.
inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// User + system CPU seconds of a local process, from /proc; -1 when unreadable.
inline double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return -1;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const char* p = std::strrchr(buf, ')');
  if (!p) return -1;
  unsigned long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU microseconds per unit of work between two ProcessCpuSeconds readings; -1 when unknown.
inline double CpuUsPer(double before, double after, uint64_t units) {
  if (before < 0 || after < 0 || units == 0) return -1;
  return (after - before) * 1e6 / static_cast<double>(units);
}

// The resident set of a local process in KB, from /proc; -1 when unknown.
inline long RssKb(int pid) {
  if (pid <= 0) return -1;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::atol(line + 6);
  }
  std::fclose(f);
  return kb;
}

// A C-driver client for `uri_string` (error API version 2); exits with a message when the
// string does not parse.
inline mongoc_client_t* Connect(const std::string& uri_string) {
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_string.c_str(), &error);
  if (!uri) {
    std::fprintf(stderr, "bad --uri: %s\n", error.message);
    std::exit(2);
  }
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  mongoc_uri_destroy(uri);
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  return client;
}

// True when the server answers a ping.
inline bool Ping(mongoc_client_t* client) {
  bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
  bson_error_t error;
  bool ok = mongoc_client_command_simple(client, "admin", cmd, nullptr, nullptr, &error);
  bson_destroy(cmd);
  return ok;
}

// The first host of a mongodb:// connection string; exits with a message when it does not parse.
inline std::pair<std::string, uint16_t> HostPort(const std::string& uri_string) {
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_string.c_str(), &error);
  if (!uri) {
    std::fprintf(stderr, "bad --uri: %s\n", error.message);
    std::exit(2);
  }
  const mongoc_host_list_t* h = mongoc_uri_get_hosts(uri);
  std::pair<std::string, uint16_t> out{h->host, h->port};
  mongoc_uri_destroy(uri);
  return out;
}

}  // namespace bench
