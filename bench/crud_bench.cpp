// crud_bench: insert, find-by-_id and update throughput and latency against a running
// brookd (or any MongoDB), over loopback, through the C driver.
//
//   build/bin/crud_bench --uri mongodb://127.0.0.1:27017/ [--seconds 5] [--idle 1000]
//
// Prints one table row per (workload, clients, journal) cell: ops/s, p50, p99 in ms.
// Then opens --idle idle connections and reports the server's resident memory growth
// (serverStatus mem.resident). Each client thread has its own mongoc_client_t, so
// every client is one connection, as 16 application processes would be.

#include <CLI/CLI.hpp>
#include <mongoc/mongoc.h>
#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench_util.h"
#include "raw_conn.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace bench;  // the helpers of bench_util.h and raw_conn.h

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017/?directConnection=true";
  double seconds = 5;
  int idle = 1000;
  int doc_size = 1024;
  std::vector<int> clients = {1, 16};
  bool insert_only = false;
  int server_pid = 0;  // when set (same machine), report the server's CPU per operation
  std::vector<bool> journal = {false, true};
  bool wire = false;  // --client wire: one epoll thread speaking OP_MSG (raw_conn.h)
};

struct CellResult {
  uint64_t ops = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

enum class Workload { kInsert, kFind, kUpdate };

const char* Name(Workload w) {
  switch (w) {
    case Workload::kInsert: return "insert";
    case Workload::kFind: return "find_by_id";
    case Workload::kUpdate: return "update";
  }
  return "?";
}

// Keys are spread per thread so concurrent inserts never collide.
void RunClient(const Options& opt, Workload w, bool journal, int thread_index, int cell,
               int preloaded, Clock::time_point deadline, CellResult* out) {
  mongoc_client_t* client = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "crud");
  mongoc_write_concern_t* wc = mongoc_write_concern_new();
  mongoc_write_concern_set_w(wc, 1);
  mongoc_write_concern_set_journal(wc, journal);
  mongoc_collection_set_write_concern(coll, wc);
  std::string payload(static_cast<size_t>(std::max(0, opt.doc_size - 40)), 'x');
  // Unique per (cell, thread), so later insert cells never collide with earlier ones.
  int64_t next_id = (int64_t{cell} << 48) | (int64_t{thread_index} << 40);
  unsigned seed = static_cast<unsigned>(thread_index * 7919 + 1);
  bson_error_t error;
  while (Clock::now() < deadline) {
    auto start = Clock::now();
    bool ok = true;
    if (w == Workload::kInsert) {
      bson_t* doc = BCON_NEW("_id", BCON_INT64(next_id++), "payload", BCON_UTF8(payload.c_str()));
      ok = mongoc_collection_insert_one(coll, doc, nullptr, nullptr, &error);
      bson_destroy(doc);
    } else {
      int64_t id = rand_r(&seed) % preloaded;
      bson_t* filter = BCON_NEW("_id", BCON_INT64(id));
      if (w == Workload::kFind) {
        mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, filter, nullptr, nullptr);
        const bson_t* doc;
        while (mongoc_cursor_next(cursor, &doc)) {
        }
        ok = !mongoc_cursor_error(cursor, &error);
        mongoc_cursor_destroy(cursor);
      } else {
        bson_t* update = BCON_NEW("$inc", "{", "n", BCON_INT32(1), "}");
        ok = mongoc_collection_update_one(coll, filter, update, nullptr, nullptr, &error);
        bson_destroy(update);
      }
      bson_destroy(filter);
    }
    if (!ok) {
      std::fprintf(stderr, "%s failed: %s\n", Name(w), error.message);
      break;
    }
    out->latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ++out->ops;
  }
  mongoc_write_concern_destroy(wc);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
}

void Preload(const Options& opt, int count) {
  mongoc_client_t* client = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "crud");
  bson_error_t error;
  mongoc_collection_drop(coll, &error);  // absent collection is fine
  std::string payload(static_cast<size_t>(std::max(0, opt.doc_size - 40)), 'x');
  // A plain array: std::vector<bson_t*> trips -Wignored-attributes (bson_t is aligned).
  constexpr size_t kBatch = 1000;
  const bson_t* docs[kBatch];
  size_t n = 0;
  for (int i = 0; i < count; ++i) {
    docs[n++] = BCON_NEW("_id", BCON_INT64(i), "payload", BCON_UTF8(payload.c_str()), "n", BCON_INT32(0));
    if (n == kBatch || i == count - 1) {
      if (!mongoc_collection_insert_many(coll, docs, n, nullptr, nullptr, &error)) {
        std::fprintf(stderr, "preload failed: %s\n", error.message);
        std::exit(1);
      }
      for (size_t k = 0; k < n; ++k) bson_destroy(const_cast<bson_t*>(docs[k]));
      n = 0;
    }
  }
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
}

// --client wire: every client is its own connection with one request in flight, as
// with the driver, but one epoll thread drives them all, so the generator's CPU stays
// small next to the server's.
class WireClient {
 public:
  WireClient(int index, Workload w, bool journal, int cell, int preloaded, const std::string& payload)
      : w_(w), journal_(journal), preloaded_(preloaded), payload_(payload),
        next_id_((int64_t{cell} << 48) | (int64_t{index} << 40)), seed_(static_cast<unsigned>(index * 7919 + 1)) {
    std::random_device random;  // a fresh session per cell: txnNumbers restart at 1
    for (int i = 0; i < 16; ++i) lsid_[i] = static_cast<uint8_t>(random());
    lsid_[6] = static_cast<uint8_t>((lsid_[6] & 0x0f) | 0x40);  // a version-4 UUID
    lsid_[8] = static_cast<uint8_t>((lsid_[8] & 0x3f) | 0x80);
  }
  RawConn& conn() { return conn_; }

  bool SendNext() {
    bson_t cmd;
    bson_init(&cmd);
    std::string sequence;
    const char* sequence_name = nullptr;
    if (w_ == Workload::kInsert) {
      BSON_APPEND_UTF8(&cmd, "insert", "crud");
      bson_t* doc = BCON_NEW("_id", BCON_INT64(next_id_++), "payload", BCON_UTF8(payload_.c_str()));
      sequence.assign(reinterpret_cast<const char*>(bson_get_data(doc)), doc->len);
      bson_destroy(doc);
      sequence_name = "documents";
    } else {
      int64_t id = rand_r(&seed_) % preloaded_;
      if (w_ == Workload::kFind) {
        BSON_APPEND_UTF8(&cmd, "find", "crud");
        bson_t filter;
        BSON_APPEND_DOCUMENT_BEGIN(&cmd, "filter", &filter);
        BSON_APPEND_INT64(&filter, "_id", id);
        bson_append_document_end(&cmd, &filter);
        BSON_APPEND_INT64(&cmd, "limit", 1);
        BSON_APPEND_BOOL(&cmd, "singleBatch", true);
      } else {
        BSON_APPEND_UTF8(&cmd, "update", "crud");
        bson_t* update = BCON_NEW("q", "{", "_id", BCON_INT64(id), "}", "u", "{", "$inc", "{", "n", BCON_INT32(1), "}", "}");
        sequence.assign(reinterpret_cast<const char*>(bson_get_data(update)), update->len);
        bson_destroy(update);
        sequence_name = "updates";
      }
    }
    if (w_ != Workload::kFind) {
      BSON_APPEND_BOOL(&cmd, "ordered", true);
      bson_t wc;
      BSON_APPEND_DOCUMENT_BEGIN(&cmd, "writeConcern", &wc);
      BSON_APPEND_INT32(&wc, "w", 1);
      BSON_APPEND_BOOL(&wc, "j", journal_);
      bson_append_document_end(&cmd, &wc);
      BSON_APPEND_INT64(&cmd, "txnNumber", ++txn_number_);  // retryable writes, as drivers do
    }
    bson_t lsid;
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "lsid", &lsid);
    bson_append_binary(&lsid, "id", 2, BSON_SUBTYPE_UUID, lsid_, 16);
    bson_append_document_end(&cmd, &lsid);
    BSON_APPEND_UTF8(&cmd, "$db", "bench");
    sent_ = Clock::now();
    bool ok = conn_.Send(&cmd, sequence_name, sequence);
    bson_destroy(&cmd);
    return ok;
  }

  // Reads the reply to the request in flight; false (with a message) when it failed.
  bool Finish(CellResult* out) {
    bson_t reply;
    if (!conn_.Receive(&reply)) {
      std::fprintf(stderr, "%s: connection lost\n", Name(w_));
      return false;
    }
    bson_iter_t it;
    bool ok = bson_iter_init_find(&it, &reply, "ok") && bson_iter_as_double(&it) == 1.0 &&
              !bson_iter_init_find(&it, &reply, "writeErrors") &&
              !bson_iter_init_find(&it, &reply, "writeConcernError");
    if (!ok) {
      char* json = bson_as_relaxed_extended_json(&reply, nullptr);
      std::fprintf(stderr, "%s failed: %s\n", Name(w_), json);
      bson_free(json);
      return false;
    }
    out->latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent_).count());
    ++out->ops;
    return true;
  }

 private:
  RawConn conn_;
  Workload w_;
  bool journal_;
  int preloaded_;
  const std::string& payload_;
  int64_t next_id_;
  unsigned seed_;
  uint8_t lsid_[16];
  int64_t txn_number_ = 0;
  Clock::time_point sent_;
};

void RunWireClients(const Options& opt, Workload w, bool journal, int cell, int preloaded,
                    Clock::time_point deadline, std::vector<CellResult>* results) {
  auto [host, port] = HostPort(opt.uri);
  std::string payload(static_cast<size_t>(std::max(0, opt.doc_size - 40)), 'x');
  std::vector<std::unique_ptr<WireClient>> clients;
  int ep = epoll_create1(0);
  for (size_t i = 0; i < results->size(); ++i) {
    clients.push_back(std::make_unique<WireClient>(static_cast<int>(i + 1), w, journal, cell, preloaded, payload));
    if (!clients.back()->conn().Connect(host, port)) {
      std::fprintf(stderr, "cannot connect to %s:%u\n", host.c_str(), port);
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, clients.back()->conn().fd(), &ev);
  }
  size_t in_flight = 0;
  for (auto& c : clients) {
    if (!c->SendNext()) std::exit(1);
    ++in_flight;
  }
  epoll_event events[64];
  bool draining = false;
  while (in_flight > 0) {
    int n = epoll_wait(ep, events, 64, 1000);
    if (!draining && Clock::now() >= deadline) draining = true;
    for (int k = 0; k < n; ++k) {
      size_t i = events[k].data.u64;
      if (!clients[i]->Finish(&(*results)[i])) std::exit(1);
      --in_flight;
      if (!draining) {
        if (!clients[i]->SendNext()) std::exit(1);
        ++in_flight;
      }
    }
  }
  ::close(ep);
}

void RunCell(const Options& opt, Workload w, int clients, bool journal, int preloaded) {
  static int cell = 0;
  ++cell;
  const double cpu_before = ProcessCpuSeconds(opt.server_pid);
  const double self_before = ProcessCpuSeconds(getpid());
  std::vector<CellResult> results(clients);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
  if (opt.wire) {
    RunWireClients(opt, w, journal, cell, preloaded, deadline, &results);
  } else {
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back(RunClient, std::cref(opt), w, journal, i + 1, cell, preloaded, deadline,
                           &results[i]);
    }
    for (auto& t : threads) t.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  uint64_t ops = 0;
  for (auto& r : results) {
    ops += r.ops;
    all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
  }
  double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf("| %-10s | %7d | %-5s | %10.0f | %8.3f | %8.3f |", Name(w), clients,
              journal ? "true" : "false", ops / elapsed, p50, p99);
  const double cpu_after = ProcessCpuSeconds(opt.server_pid);
  if (cpu_before >= 0 && cpu_after >= 0 && ops > 0) {
    std::printf(" %8.1f |", (cpu_after - cpu_before) * 1e6 / static_cast<double>(ops));
  }
  // The load generator shares the machine: its own cost bounds what the server can reach.
  const double self_after = ProcessCpuSeconds(getpid());
  if (opt.server_pid > 0 && ops > 0) {
    std::printf(" %8.1f |", (self_after - self_before) * 1e6 / static_cast<double>(ops));
  }
  std::printf("\n");
  std::fflush(stdout);
}

double ResidentMb(mongoc_client_t* client) {
  bson_t* cmd = BCON_NEW("serverStatus", BCON_INT32(1));
  bson_t reply;
  bson_error_t error;
  double mb = -1;
  if (mongoc_client_command_simple(client, "admin", cmd, nullptr, &reply, &error)) {
    bson_iter_t it;
    if (bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "mem.resident", &it)) {
      mb = bson_iter_as_double(&it);
    }
  }
  bson_destroy(&reply);
  bson_destroy(cmd);
  return mb;
}

void IdleConnections(const Options& opt) {
  mongoc_client_t* probe = Connect(opt.uri);
  Ping(probe);
  double before = ResidentMb(probe);
  std::vector<mongoc_client_t*> idle;
  for (int i = 0; i < opt.idle; ++i) {
    idle.push_back(Connect(opt.uri));
    if (!Ping(idle.back())) {
      std::fprintf(stderr, "idle connection %d failed\n", i);
      break;
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double after = ResidentMb(probe);
  std::printf("\n| idle connections | resident before (MB) | resident after (MB) | extra (MB) |\n");
  std::printf("|---|---|---|---|\n| %zu | %.1f | %.1f | %.1f |\n", idle.size(), before, after, after - before);
  for (auto* c : idle) mongoc_client_destroy(c);
  mongoc_client_destroy(probe);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"crud_bench: insert, find-by-_id and update throughput and latency against a "
               "running brookd, 1 and 16 clients, j:false and j:true (docs/performance.md)"};
  // A flag given twice takes its last value, so a script can override its defaults.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--uri", opt.uri, "the server")->capture_default_str();
  app.add_option("--seconds", opt.seconds, "length of each cell")->capture_default_str();
  app.add_option("--idle", opt.idle, "idle connections for the memory row")->capture_default_str();
  app.add_option("--doc-size", opt.doc_size, "inserted document size in bytes")->capture_default_str();
  int clients = 0;
  app.add_option("--clients", clients, "run only this client count (default 1 and 16)");
  app.add_flag("--insert-only", opt.insert_only, "only the insert cells");
  app.add_option("--server-pid", opt.server_pid,
                 "the local brookd's pid; adds its CPU microseconds per operation (and the "
                 "benchmark's own, since both share the machine)");
  std::string journal;
  app.add_option("--j", journal, "run the write cells with only this journal setting (default both)")
      ->check(CLI::IsMember({"true", "false"}));
  std::string client = "driver";
  app.add_option("--client", client,
                 "the C driver, a thread per client; or one epoll thread speaking OP_MSG itself "
                 "(bench/raw_conn.h), whose own CPU cost is a fraction of the driver's")
      ->check(CLI::IsMember({"driver", "wire"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (clients > 0) opt.clients = {clients};
  if (!journal.empty()) opt.journal = {journal == "true"};
  opt.wire = client == "wire";
  mongoc_init();
  {
    mongoc_client_t* c = Connect(opt.uri);
    if (!Ping(c)) {
      std::fprintf(stderr, "cannot reach %s\n", opt.uri.c_str());
      return 1;
    }
    // Insert cells number their _ids from 0 in every run: start from an empty collection.
    mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "crud");
    bson_error_t error;
    mongoc_collection_drop(coll, &error);  // absent collection is fine
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(c);
  }
  constexpr int kPreloaded = 100000;
  const bool cpu = opt.server_pid > 0;
  std::printf("| workload   | clients | j     |      ops/s | p50 (ms) | p99 (ms) |%s\n",
              cpu ? " srv us/op | bench us/op |" : "");
  std::printf("|------------|---------|-------|------------|----------|----------|%s\n",
              cpu ? "-----------|-------------|" : "");
  for (bool journal : opt.journal) {
    for (int clients : opt.clients) RunCell(opt, Workload::kInsert, clients, journal, 0);
  }
  if (opt.insert_only) {
    mongoc_cleanup();
    return 0;
  }
  Preload(opt, kPreloaded);
  for (int clients : opt.clients) RunCell(opt, Workload::kFind, clients, false, kPreloaded);
  for (bool journal : opt.journal) {
    for (int clients : opt.clients) RunCell(opt, Workload::kUpdate, clients, journal, kPreloaded);
  }
  if (opt.idle > 0) IdleConnections(opt);
  mongoc_cleanup();
  return 0;
}
