// watch_bench: events per second from a server through `brook watch` into a file sink,
// with documents of --doc-size bytes (default 1 KB). Target: >= 50,000 events/s.
//
//   build/bin/watch_bench --uri mongodb://127.0.0.1:27017/?directConnection=true
//       [--events 200000] [--doc-size 1024] [--brook build/bin/brook] [--batch-size 0]
//   build/bin/watch_bench --brookd build/bin/brookd ...   # its own server (temp dbpath)
//
// Two cells, each in a fresh collection:
//   catch-up  N inserts are written first; then brook watch starts at the time before
//             them and the clock runs until the file holds N lines (pure processor
//             throughput: getMore + Extended JSON + write + fsync + checkpoint).
//   live      brook watch is running at the head; a writer inserts N documents with
//             insert_many; the clock runs from the first write until the file holds N
//             lines (end to end, bounded by the server's insert rate too).
// Prints one table row per cell: events, seconds, events/s, output MB/s, and the CPU time
// per event of brook watch and (with --brookd) of the server over the cell: on a shared
// machine the wall clock is noisy, the CPU cost much less so. (The live cell's server
// CPU includes the inserts.)

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Ping;
using bench::ProcessCpuSeconds;

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017/?directConnection=true";
  std::string brook = "build/bin/brook";
  long events = 200000;
  int doc_size = 1024;
  int batch_size = 0;
};

// Counts the lines of a growing file, reading only what was appended since the last
// call: re-reading a file of hundreds of MB every poll would steal the CPU measured.
class LineCounter {
 public:
  explicit LineCounter(std::string path) : path_(std::move(path)) {}
  long Count() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return lines_;
    in.seekg(offset_);
    static char buf[1 << 20];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      lines_ += static_cast<long>(std::count(buf, buf + in.gcount(), '\n'));
      offset_ += in.gcount();
      if (!in) break;
    }
    return lines_;
  }

 private:
  std::string path_;
  std::streamoff offset_ = 0;
  long lines_ = 0;
};

std::pair<uint32_t, uint32_t> OperationTime(mongoc_client_t* client) {
  bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
  bson_t reply;
  bson_error_t err;
  std::pair<uint32_t, uint32_t> t{0, 0};
  if (mongoc_client_command_simple(client, "admin", cmd, nullptr, &reply, &err)) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, &reply, "operationTime")) bson_iter_timestamp(&it, &t.first, &t.second);
  } else {
    std::fprintf(stderr, "ping failed: %s\n", err.message);
    std::exit(1);
  }
  bson_destroy(cmd);
  bson_destroy(&reply);
  return t;
}

void InsertAll(mongoc_client_t* client, const std::string& coll_name, const Options& opt) {
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "watch_bench", coll_name.c_str());
  std::string pad(static_cast<size_t>(std::max(0, opt.doc_size - 40)), 'x');
  const long kBatch = 1000;
  for (long base = 0; base < opt.events; base += kBatch) {
    long n = std::min(kBatch, opt.events - base);
    // A plain array: std::vector<bson_t*> trips -Werror=ignored-attributes (bson_t is aligned).
    bson_t* docs[kBatch];
    for (long i = 0; i < n; ++i) docs[i] = BCON_NEW("n", BCON_INT64(base + i), "pad", BCON_UTF8(pad.c_str()));
    bson_error_t err;
    if (!mongoc_collection_insert_many(coll, const_cast<const bson_t**>(docs), static_cast<size_t>(n), nullptr,
                                       nullptr, &err)) {
      std::fprintf(stderr, "insert_many failed: %s\n", err.message);
      std::exit(1);
    }
    for (long i = 0; i < n; ++i) bson_destroy(docs[i]);
  }
  mongoc_collection_destroy(coll);
}

pid_t StartWatch(const Options& opt, const std::string& coll, const std::string& dir, const std::string& start) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string log = dir + "/watch.log";
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) dup2(fileno(f), 2);
    std::vector<std::string> args = {opt.brook, "watch", "--uri", opt.uri, "--db", "watch_bench", "--coll", coll,
                                     "--checkpoint", "file:" + dir + "/bench.ckpt", "--sink",
                                     "file:" + dir + "/events.jsonl", "--status", "off"};
    if (!start.empty()) args.insert(args.end(), {"--start-at-operation-time", start});
    if (opt.batch_size > 0) args.insert(args.end(), {"--batch-size", std::to_string(opt.batch_size)});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(opt.brook.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Stops brook watch; its CPU seconds (user + system) over its whole run.
double StopWatch(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

bool WaitLines(const std::string& path, long n, pid_t pid, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  LineCounter counter(path);
  while (Clock::now() < deadline) {
    if (counter.Count() >= n) return true;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Row(const char* cell, long events, double secs, const std::string& file, double brook_cpu, double server_cpu) {
  double mb = static_cast<double>(std::filesystem::file_size(file)) / (1 << 20);
  std::printf("| %-9s | %9ld | %8.2f | %10.0f | %8.1f | %12.1f | %13s |\n", cell, events, secs, events / secs, mb / secs,
              brook_cpu * 1e6 / static_cast<double>(events),
              server_cpu < 0 ? "-" : std::to_string(static_cast<int>(server_cpu * 1e6 / static_cast<double>(events))).c_str());
}

// --brookd PATH: the bench's own server on a free loopback port with a temporary dbpath
// (its CPU is then measured too). Returns its pid; sets opt->uri.
pid_t StartBrookd(const std::string& path, Options* opt, std::string* dbpath) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string port = std::to_string(ntohs(a.sin_port));
  close(fd);
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/watch_bench_db_XXXXXX";
  *dbpath = mkdtemp(tmpl.data());
  pid_t pid = fork();
  if (pid == 0) {
    std::string log = *dbpath + "/brookd.log";
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::string data = *dbpath + "/data";
    std::filesystem::create_directories(data);
    execl(path.c_str(), path.c_str(), "--port", port.c_str(), "--dbpath", data.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  opt->uri = "mongodb://127.0.0.1:" + port + "/?directConnection=true";
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::string brookd;
  CLI::App app{"watch_bench: events/s from the server through `brook watch` into a file sink"};
  // A flag given twice takes its last value, so a script can override its defaults.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--uri", opt.uri, "the server")->capture_default_str();
  app.add_option("--brook", opt.brook, "the brook binary")->capture_default_str();
  app.add_option("--brookd", brookd, "start this brookd on a temporary dbpath instead of using --uri");
  app.add_option("--events", opt.events, "events per cell")->capture_default_str();
  app.add_option("--doc-size", opt.doc_size, "document size in bytes")->capture_default_str();
  app.add_option("--batch-size", opt.batch_size, "brook watch's --batch-size (0: its default)");
  CLI11_PARSE(app, argc, argv);
  mongoc_init();
  pid_t server = -1;
  std::string dbpath;
  if (!brookd.empty()) server = StartBrookd(brookd, &opt, &dbpath);
  mongoc_client_t* client = bench::Connect(opt.uri);
  for (int i = 0; i < 200 && !Ping(client); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("brook watch into a file sink, %ld events of %d bytes\n\n", opt.events, opt.doc_size);
  std::printf("| cell      |    events |  seconds |   events/s |     MB/s | brook CPU us/event | server CPU us/event |\n");
  std::printf("|-----------|-----------|----------|------------|----------|--------------------|---------------------|\n");
  int rc = 0;
  for (const char* cell : {"catch-up", "live"}) {
    std::string dir = std::filesystem::temp_directory_path().string() + "/watch_bench_" + cell + "_" +
                      std::to_string(getpid());
    std::filesystem::create_directories(dir);
    std::string coll = std::string(cell) + "_" + std::to_string(getpid());
    std::string file = dir + "/events.jsonl";
    pid_t pid;
    Clock::time_point t0;
    double server_cpu0 = 0;
    if (std::strcmp(cell, "catch-up") == 0) {
      auto t = OperationTime(client);
      InsertAll(client, coll, opt);
      t0 = Clock::now();
      if (server > 0) server_cpu0 = ProcessCpuSeconds(server);
      pid = StartWatch(opt, coll, dir, std::to_string(t.first) + ":" + std::to_string(t.second));
    } else {
      pid = StartWatch(opt, coll, dir, "");
      // Ready once the starting checkpoint exists.
      while (!std::filesystem::exists(dir + "/bench.ckpt")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      t0 = Clock::now();
      if (server > 0) server_cpu0 = ProcessCpuSeconds(server);
      InsertAll(client, coll, opt);
    }
    bool ok = WaitLines(file, opt.events, pid, 600);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    double server_cpu = server > 0 ? ProcessCpuSeconds(server) - server_cpu0 : -1;
    double brook_cpu = StopWatch(pid);
    if (ok) {
      Row(cell, opt.events, secs, file, brook_cpu, server_cpu);
    } else {
      std::printf("| %-9s | failed: see %s/watch.log |\n", cell, dir.c_str());
      rc = 1;
      continue;
    }
    std::filesystem::remove_all(dir);
  }
  mongoc_client_destroy(client);
  mongoc_cleanup();
  if (server > 0) {
    kill(server, SIGTERM);
    int status;
    waitpid(server, &status, 0);
    std::filesystem::remove_all(dbpath);
  }
  return rc;
}
