// cs_bench: change-stream cost with many open streams, and the cost of resuming, against a
// running brookd (or any MongoDB replica set).
//
//   build-bench/bin/cs_bench --uri mongodb://127.0.0.1:27017/ --server-pid PID [--seconds 5]
//                            [--rate 5000] [--await-ms 1000] [--streams 0,10,100,1000,5000]
//                            [--resume 1,10000,1000000]
//
// Streams table, one row per number of open streams N on one collection, each stream with
// its own $match ({fullDocument.k: i}; the writer's k is _id % N, so every insert matches
// exactly one stream). The streams speak OP_MSG themselves (one epoll thread, one
// connection each, a getMore always out with maxTimeMS --await-ms), since a C-driver
// client and thread per stream does not scale to 5,000 on 2 cores.
//   - idle KB/stream: the server's RSS growth from opening the N streams (each parked in
//     a getMore) over the same N connections already open, divided by N; KB/conn is
//     what each connection itself cost (both need --server-pid);
//   - ins/s: one C-driver writer inserting flat out (w:1) for --seconds, first with k = -1
//     (no stream matches: the cost of streams merely being open), then with k = _id % N
//     (each insert delivered to one stream: add a getMore round trip per insert), each
//     also as a share of the N = 0 row;
//   - then the writer paces --rate inserts/s for --seconds: paced/s is what it reached,
//     the latencies are "delivered - inserted" on one steady clock (writer and readers
//     share the process), and delivered is the share of those inserts delivered.
//
// Resume table (C driver): after writing max(--resume) + 1 events, resumes from the token
// K events before the last one. "first event" is the time from opening a stream with
// batchSize 1 to its first event, best of 3 (resuming must be a seek: it should not grow
// with K); "all events" is reading all K with batchSize 1000, and events/s that history
// rate for one consumer; srv us/event the server's CPU per event over that read (with
// --server-pid). The streams table's srv us/ins is the server's CPU per insert of each
// flat-out phase (the insert itself, plus its delivery in the 1-match phase).

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "raw_conn.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace bench;  // the helpers of bench_util.h and raw_conn.h

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017/?directConnection=true";
  double seconds = 5;
  int rate = 5000;
  int await_ms = 1000;  // getMore maxTimeMS: MongoDB's default awaitData wait
  int server_pid = 0;   // for the server's RSS
  std::vector<int> streams = {0, 10, 100, 1000, 5000};
  std::vector<int> resume = {1, 10000, 1000000};
};

const Clock::time_point kEpoch = Clock::now();

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - kEpoch).count(); }

void Fail(const char* what, const bson_error_t& error) {
  std::fprintf(stderr, "%s failed: %s\n", what, error.message);
  std::exit(1);
}

void DropCollection(const Options& opt, const char* name) {
  mongoc_client_t* c = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", name);
  bson_error_t error;
  mongoc_collection_drop(coll, &error);  // absent is fine
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

// ---- many streams ---------------------------------------------------------------------

struct Stream {
  RawConn conn;
  int64_t cursor_id = 0;
  bool waiting = false;  // a getMore is out
};

struct Fleet {
  std::vector<std::unique_ptr<Stream>> streams;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> delivered{0};  // events of the latency phase
  std::atomic<uint64_t> errors{0};
  std::vector<double> latencies_ms;  // reader thread only until joined
};

bson_t* GetMore(int64_t id, int await_ms) {
  return BCON_NEW("getMore", BCON_INT64(id), "collection", BCON_UTF8("cs_many"), "maxTimeMS",
                  BCON_INT64(await_ms), "$db", BCON_UTF8("bench"));
}

// Reads the events of a reply; true when the cursor is still open.
bool TakeReply(const bson_t* reply, Fleet* fleet) {
  bson_iter_t it, batch;
  if (!bson_iter_init(&it, reply) || !bson_iter_find_descendant(&it, "cursor.nextBatch", &batch) ||
      !BSON_ITER_HOLDS_ARRAY(&batch)) {
    fleet->errors.fetch_add(1);
    return false;
  }
  int64_t now = NowNs();
  bson_iter_t ev;
  if (!bson_iter_recurse(&batch, &ev)) return true;
  while (bson_iter_next(&ev)) {
    bson_iter_t f;
    if (!bson_iter_recurse(&ev, &f) || !bson_iter_find_descendant(&f, "fullDocument.p", &f)) continue;
    if (bson_iter_as_int64(&f) != 1) continue;
    bson_iter_t t;
    if (bson_iter_recurse(&ev, &t) && bson_iter_find_descendant(&t, "fullDocument.t", &t)) {
      fleet->latencies_ms.push_back(static_cast<double>(now - bson_iter_as_int64(&t)) / 1e6);
    }
    fleet->delivered.fetch_add(1);
  }
  return true;
}

// One thread for every stream: answers each reply with the next getMore until stopped.
void ServeStreams(Fleet* fleet, int await_ms) {
  int ep = ::epoll_create1(0);
  for (size_t i = 0; i < fleet->streams.size(); ++i) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fleet->streams[i]->conn.fd(), &e);
  }
  size_t out = fleet->streams.size();  // every stream starts with a getMore out
  std::vector<epoll_event> ready(256);
  while (out > 0) {
    int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int k = 0; k < n; ++k) {
      Stream& s = *fleet->streams[ready[static_cast<size_t>(k)].data.u64];
      bson_t reply;
      if (!s.conn.Receive(&reply)) {
        fleet->errors.fetch_add(1);
        ::epoll_ctl(ep, EPOLL_CTL_DEL, s.conn.fd(), nullptr);
        s.waiting = false;
        --out;
        continue;
      }
      bool open = TakeReply(&reply, fleet);
      if (open && !fleet->stop.load()) {
        bson_t* gm = GetMore(s.cursor_id, await_ms);
        if (s.conn.Send(gm)) {
          bson_destroy(gm);
          continue;
        }
        bson_destroy(gm);
        fleet->errors.fetch_add(1);
      }
      s.waiting = false;
      ::epoll_ctl(ep, EPOLL_CTL_DEL, s.conn.fd(), nullptr);
      --out;
    }
  }
  ::close(ep);
}

// Inserts {_id, k: id % streams, t, p} for `seconds`, paced at `rate` (0: flat out).
// Returns inserts/s. `deliver` false: k is -1, which no stream follows.
double Write(const Options& opt, int streams, bool deliver, int64_t* next_id, int rate, int p, uint64_t* written) {
  mongoc_client_t* c = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_many");
  bson_error_t error;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
  uint64_t n = 0;
  while (Clock::now() < end) {
    if (rate > 0) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(n) / rate));
      if (due > Clock::now()) std::this_thread::sleep_until(due);
    }
    int64_t id = (*next_id)++;
    bson_t* doc = BCON_NEW("_id", BCON_INT64(id), "k", BCON_INT64(deliver && streams > 0 ? id % streams : -1), "t",
                           BCON_INT64(NowNs()), "p", BCON_INT32(p));
    bool ok = mongoc_collection_insert_one(coll, doc, nullptr, nullptr, &error);
    bson_destroy(doc);
    if (!ok) Fail("insert", error);
    ++n;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
  *written = n;
  return static_cast<double>(n) / secs;
}

struct ManyRow {
  int streams = 0;
  double idle_kb_per_stream = -1;
  double conn_kb = -1;
  double max_inserts = 0;          // no insert matches a stream
  double max_inserts_deliver = 0;  // each insert matches one stream
  double cpu_us = -1;              // the server's CPU per insert, no match
  double cpu_us_deliver = -1;      // the server's CPU per insert delivered to one stream
};

ManyRow ManyStreamsCell(const Options& opt, int n, const ManyRow& none) {
  DropCollection(opt, "cs_many");
  {
    // Create it, so every stream opens on an existing collection.
    mongoc_client_t* c = Connect(opt.uri);
    mongoc_database_t* db = mongoc_client_get_database(c, "bench");
    bson_error_t error;
    mongoc_collection_t* made = mongoc_database_create_collection(db, "cs_many", nullptr, &error);
    if (made) mongoc_collection_destroy(made);
    mongoc_database_destroy(db);
    mongoc_client_destroy(c);
  }
  ManyRow row;
  row.streams = n;
  auto [host, port] = HostPort(opt.uri);
  Fleet fleet;
  long rss0 = RssKb(opt.server_pid);
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<Stream>();
    if (!s->conn.Connect(host, port)) {
      std::fprintf(stderr, "connect %d failed: %s\n", i, std::strerror(errno));
      std::exit(1);
    }
    fleet.streams.push_back(std::move(s));
  }
  if (n > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // every connection accepted
  long rss1 = RssKb(opt.server_pid);
  for (int i = 0; i < n; ++i) {
    Stream& s = *fleet.streams[static_cast<size_t>(i)];
    // Each stream its own $match: the k this stream alone follows.
    bson_t* agg = BCON_NEW("aggregate", BCON_UTF8("cs_many"), "pipeline", "[", "{", "$changeStream", "{", "}", "}",
                           "{", "$match", "{", "fullDocument.k", BCON_INT64(i), "}", "}", "]", "cursor", "{", "}",
                           "$db", BCON_UTF8("bench"));
    bson_t reply;
    bson_iter_t it;
    if (!s.conn.Send(agg) || !s.conn.Receive(&reply) || !bson_iter_init(&it, &reply) ||
        !bson_iter_find_descendant(&it, "cursor.id", &it)) {
      std::fprintf(stderr, "opening stream %d failed\n", i);
      std::exit(1);
    }
    s.cursor_id = bson_iter_as_int64(&it);
    bson_destroy(agg);
    bson_t* gm = GetMore(s.cursor_id, opt.await_ms);
    s.conn.Send(gm);
    bson_destroy(gm);
    s.waiting = true;
  }
  std::thread reader;
  if (n > 0) reader = std::thread(ServeStreams, &fleet, opt.await_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // every getMore parked
  long rss2 = RssKb(opt.server_pid);
  if (n > 0 && rss0 > 0) {
    row.conn_kb = static_cast<double>(rss1 - rss0) / n;
    row.idle_kb_per_stream = static_cast<double>(rss2 - rss1) / n;
  }

  int64_t next_id = 0;
  uint64_t written = 0;
  double cpu0 = ProcessCpuSeconds(opt.server_pid);
  row.max_inserts = Write(opt, n, false, &next_id, 0, 0, &written);
  double cpu1 = ProcessCpuSeconds(opt.server_pid);
  row.cpu_us = CpuUsPer(cpu0, cpu1, written);
  row.max_inserts_deliver = Write(opt, n, true, &next_id, 0, 0, &written);
  row.cpu_us_deliver = CpuUsPer(cpu1, ProcessCpuSeconds(opt.server_pid), written);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  fleet.latencies_ms.reserve(static_cast<size_t>(opt.rate * opt.seconds * 1.2));
  uint64_t paced = 0;
  double achieved = Write(opt, n, true, &next_id, opt.rate, 1, &paced);
  auto give_up = Clock::now() + std::chrono::seconds(10);
  while (n > 0 && fleet.delivered.load() < paced && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fleet.stop.store(true);
  if (reader.joinable()) reader.join();
  for (auto& s : fleet.streams) {
    bson_t* kill = BCON_NEW("killCursors", BCON_UTF8("cs_many"), "cursors", "[", BCON_INT64(s->cursor_id), "]",
                            "$db", BCON_UTF8("bench"));
    bson_t reply;
    if (s->conn.Send(kill)) s->conn.Receive(&reply);
    bson_destroy(kill);
  }
  fleet.streams.clear();

  std::vector<double>& lat = fleet.latencies_ms;
  // "-" where a column has no meaning (no streams) or no measure (no --server-pid).
  auto num = [](bool have, double v, const char* f) {
    char b[32];
    if (!have) return std::string("-");
    std::snprintf(b, sizeof(b), f, v);
    return std::string(b);
  };
  bool have_lat = n > 0 && !lat.empty();
  double p50 = Percentile(lat, 0.50), p99 = Percentile(lat, 0.99), p999 = Percentile(lat, 0.999);
  double delivered = paced > 0 ? 100.0 * static_cast<double>(fleet.delivered.load()) / static_cast<double>(paced) : 0;
  auto share = [](double v, double base) { return base > 0 ? 100.0 * v / base : 100.0; };
  std::printf("| %7d | %14s | %7s | %13.0f | %4.0f%% | %9s | %13.0f | %4.0f%% | %9s | %7.0f | %8s | %8s | %9s | %9s |%s\n",
              n, num(row.idle_kb_per_stream >= 0, row.idle_kb_per_stream, "%.1f").c_str(),
              num(row.conn_kb >= 0, row.conn_kb, "%.1f").c_str(), row.max_inserts,
              share(row.max_inserts, none.max_inserts), num(row.cpu_us >= 0, row.cpu_us, "%.1f").c_str(),
              row.max_inserts_deliver, share(row.max_inserts_deliver, none.max_inserts_deliver),
              num(row.cpu_us_deliver >= 0, row.cpu_us_deliver, "%.1f").c_str(), achieved,
              num(have_lat, p50, "%.2f").c_str(), num(have_lat, p99, "%.2f").c_str(),
              num(have_lat, p999, "%.2f").c_str(), num(n > 0, delivered, "%.1f%%").c_str(),
              fleet.errors.load() ? " (errors)" : "");
  std::fflush(stdout);
  return row;
}

// ---- resume ---------------------------------------------------------------------------

// Writes `count` events and returns the resume token of each (BSON bytes), in order.
// (Bytes, not bson_t*: bson_t's alignment attribute does not survive a template argument.)
std::vector<std::string> WriteAndCollectTokens(const Options& opt, int count) {
  DropCollection(opt, "cs_resume");
  mongoc_client_t* c = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_resume");
  bson_t* pipeline = BCON_NEW("pipeline", "[", "]");
  bson_t* opts = BCON_NEW("maxAwaitTimeMS", BCON_INT64(200), "batchSize", BCON_INT32(1000));
  mongoc_change_stream_t* cs = mongoc_collection_watch(coll, pipeline, opts);
  bson_error_t error;
  constexpr int kBatch = 1000;
  const bson_t* docs[kBatch];
  int n = 0;
  for (int i = 0; i < count; ++i) {
    docs[n++] = BCON_NEW("_id", BCON_INT32(i), "v", BCON_INT32(i));
    if (n == kBatch || i == count - 1) {
      if (!mongoc_collection_insert_many(coll, docs, static_cast<size_t>(n), nullptr, nullptr, &error)) {
        Fail("insert_many", error);
      }
      for (int k = 0; k < n; ++k) bson_destroy(const_cast<bson_t*>(docs[k]));
      n = 0;
    }
  }
  std::vector<std::string> tokens;
  tokens.reserve(static_cast<size_t>(count));
  const bson_t* doc;
  auto give_up = Clock::now() + std::chrono::minutes(5);
  while (static_cast<int>(tokens.size()) < count && Clock::now() < give_up) {
    if (mongoc_change_stream_next(cs, &doc)) {
      bson_iter_t it;
      const uint8_t* data = nullptr;
      uint32_t len = 0;
      if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_document(&it, &len, &data);
        tokens.emplace_back(reinterpret_cast<const char*>(data), len);
      }
    } else if (mongoc_change_stream_error_document(cs, &error, nullptr)) {
      Fail("collecting tokens", error);
    }
  }
  if (static_cast<int>(tokens.size()) < count) {
    std::fprintf(stderr, "saw only %zu of %d events\n", tokens.size(), count);
    std::exit(1);
  }
  mongoc_change_stream_destroy(cs);
  bson_destroy(opts);
  bson_destroy(pipeline);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
  return tokens;
}

// Opens a stream resuming `back` events before the last one, with `batch_size`, and reads
// `want` events; returns {ms to the first event, ms to the last}.
std::pair<double, double> Resume(const Options& opt, const std::vector<std::string>& tokens, int back,
                                 int batch_size, int want) {
  mongoc_client_t* c = Connect(opt.uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_resume");
  bson_t* pipeline = BCON_NEW("pipeline", "[", "]");
  const std::string& bytes = tokens[tokens.size() - 1 - static_cast<size_t>(back)];
  bson_t token;
  bson_init_static(&token, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  bson_t* opts = BCON_NEW("maxAwaitTimeMS", BCON_INT64(200), "batchSize", BCON_INT32(batch_size), "resumeAfter",
                          BCON_DOCUMENT(&token));
  auto start = Clock::now();
  mongoc_change_stream_t* cs = mongoc_collection_watch(coll, pipeline, opts);
  const bson_t* doc;
  bson_error_t error;
  int seen = 0;
  double first_ms = -1;
  auto give_up = start + std::chrono::minutes(5);
  while (seen < want && Clock::now() < give_up) {
    if (mongoc_change_stream_next(cs, &doc)) {
      if (seen++ == 0) first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    } else if (mongoc_change_stream_error_document(cs, &error, nullptr)) {
      Fail("resume", error);
    }
  }
  double all_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  mongoc_change_stream_destroy(cs);
  bson_destroy(opts);
  bson_destroy(pipeline);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
  return {first_ms, all_ms};
}

void ResumeCell(const Options& opt, const std::vector<std::string>& tokens, int back) {
  // The seek: the first event of a stream read with batchSize 1, so the time does not
  // include filling a larger first batch. Best of 3 (the machine is shared).
  double first_ms = 1e18;
  for (int i = 0; i < 3; ++i) first_ms = std::min(first_ms, Resume(opt, tokens, back, 1, 1).first);
  // The history: all `back` events with batchSize 1000.
  double cpu0 = ProcessCpuSeconds(opt.server_pid);
  auto [unused, all_ms] = Resume(opt, tokens, back, 1000, back);
  (void)unused;
  double cpu_us = CpuUsPer(cpu0, ProcessCpuSeconds(opt.server_pid), static_cast<uint64_t>(back));
  char cpu[32] = "-";
  if (cpu_us >= 0) std::snprintf(cpu, sizeof(cpu), "%.2f", cpu_us);
  std::printf("| %11d | %16.3f | %15.3f | %9.0f | %12s |\n", back, first_ms, all_ms,
              all_ms > 0 ? back / (all_ms / 1000.0) : 0.0, cpu);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"cs_bench: change-stream fan-out, write-to-event latency and resume cost against "
               "a running brookd (docs/change-streams.md)"};
  app.add_option("--uri", opt.uri, "the server")->capture_default_str();
  app.add_option("--server-pid", opt.server_pid, "the local brookd's pid, for its memory and CPU");
  app.add_option("--seconds", opt.seconds, "length of each cell")->capture_default_str();
  app.add_option("--rate", opt.rate, "paced inserts per second for the latency cells")
      ->capture_default_str();
  app.add_option("--await-ms", opt.await_ms, "getMore maxTimeMS")->capture_default_str();
  app.add_option("--streams", opt.streams, "stream counts, one row each")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--resume", opt.resume, "events back to resume from, one row each")
      ->delimiter(',')
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  mongoc_init();
  {
    mongoc_client_t* c = Connect(opt.uri);
    bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t error;
    if (!mongoc_client_command_simple(c, "admin", ping, nullptr, nullptr, &error)) {
      std::fprintf(stderr, "cannot reach %s: %s\n", opt.uri.c_str(), error.message);
      return 1;
    }
    bson_destroy(ping);
    mongoc_client_destroy(c);
  }

  if (!opt.streams.empty()) {
    std::printf("| streams | idle KB/stream | KB/conn | ins/s 0 match | vs 0 | srv us/ins | ins/s 1 match | vs 0 | srv us/ins | paced/s | p50 (ms) | p99 (ms) | p999 (ms) | delivered |\n");
    std::printf("|---------|----------------|---------|---------------|------|-----------|---------------|------|-----------|---------|----------|----------|-----------|-----------|\n");
    ManyRow none;
    for (int n : opt.streams) {
      ManyRow row = ManyStreamsCell(opt, n, none);
      if (n == 0) none = row;
    }
  }
  int max_back = 0;
  for (int k : opt.resume) max_back = std::max(max_back, k);
  if (max_back > 0) {
    std::vector<std::string> tokens = WriteAndCollectTokens(opt, max_back + 1);
    std::printf("\n| events back | first event (ms) | all events (ms) |  events/s | srv us/event |\n");
    std::printf("|-------------|------------------|-----------------|-----------|--------------|\n");
    std::fflush(stdout);  // the header marks the end of the write phase (for a profiler)
    for (int k : opt.resume) {
      if (k > 0) ResumeCell(opt, tokens, k);
    }
  }
  mongoc_cleanup();
  return 0;
}
