// watch_bench: events per second from a server through `brook watch` into a file sink,
// with documents of --doc-size bytes (default 1 KB). Target: >= 50,000 events/s.
//
//   build/bin/watch_bench --uri mongodb://127.0.0.1:27017/?directConnection=true
//       [--events 200000] [--doc-size 1024] [--brook build/bin/brook] [--batch-size 0]
//
// Two cells, each in a fresh collection:
//   catch-up  N inserts are written first; then brook watch starts at the time before
//             them and the clock runs until the file holds N lines (pure processor
//             throughput: getMore + Extended JSON + write + fsync + checkpoint).
//   live      brook watch is running at the head; a writer inserts N documents with
//             insert_many; the clock runs from the first write until the file holds N
//             lines (end to end, bounded by the server's insert rate too).
// Prints one table row per cell: events, seconds, events/s, output MB/s.

#include <mongoc/mongoc.h>
#include <signal.h>
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

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017/?directConnection=true";
  std::string brook = "build/bin/brook";
  long events = 200000;
  int doc_size = 1024;
  int batch_size = 0;
};

long CountLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  static char buf[1 << 20];
  long n = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    n += static_cast<long>(std::count(buf, buf + in.gcount(), '\n'));
    if (!in) break;
  }
  return n;
}

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

void StopWatch(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
}

bool WaitLines(const std::string& path, long n, pid_t pid, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    if (CountLines(path) >= n) return true;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Row(const char* cell, long events, double secs, const std::string& file) {
  double mb = static_cast<double>(std::filesystem::file_size(file)) / (1 << 20);
  std::printf("| %-9s | %9ld | %8.2f | %10.0f | %8.1f |\n", cell, events, secs, events / secs, mb / secs);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--uri") opt.uri = v;
    else if (k == "--brook") opt.brook = v;
    else if (k == "--events") opt.events = std::atol(v.c_str());
    else if (k == "--doc-size") opt.doc_size = std::atoi(v.c_str());
    else if (k == "--batch-size") opt.batch_size = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  mongoc_init();
  mongoc_client_t* client = mongoc_client_new(opt.uri.c_str());
  if (!client) {
    std::fprintf(stderr, "bad --uri\n");
    return 2;
  }
  std::printf("brook watch into a file sink, %ld events of %d bytes\n\n", opt.events, opt.doc_size);
  std::printf("| cell      |    events |  seconds |   events/s |     MB/s |\n");
  std::printf("|-----------|-----------|----------|------------|----------|\n");
  int rc = 0;
  for (const char* cell : {"catch-up", "live"}) {
    std::string dir = std::filesystem::temp_directory_path().string() + "/watch_bench_" + cell + "_" +
                      std::to_string(getpid());
    std::filesystem::create_directories(dir);
    std::string coll = std::string(cell) + "_" + std::to_string(getpid());
    std::string file = dir + "/events.jsonl";
    pid_t pid;
    Clock::time_point t0;
    if (std::strcmp(cell, "catch-up") == 0) {
      auto t = OperationTime(client);
      InsertAll(client, coll, opt);
      t0 = Clock::now();
      pid = StartWatch(opt, coll, dir, std::to_string(t.first) + ":" + std::to_string(t.second));
    } else {
      pid = StartWatch(opt, coll, dir, "");
      // Ready once the starting checkpoint exists.
      while (!std::filesystem::exists(dir + "/bench.ckpt")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      t0 = Clock::now();
      InsertAll(client, coll, opt);
    }
    bool ok = WaitLines(file, opt.events, pid, 600);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    StopWatch(pid);
    if (ok) {
      Row(cell, opt.events, secs, file);
    } else {
      std::printf("| %-9s | failed: see %s/watch.log |\n", cell, dir.c_str());
      rc = 1;
      continue;
    }
    std::filesystem::remove_all(dir);
  }
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return rc;
}
