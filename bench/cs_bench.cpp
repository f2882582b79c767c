// cs_bench: change-stream event latency and fan-out throughput, and the cost of resuming,
// against a running brookd (or any MongoDB replica set), through the C driver.
//
//   build/bin/cs_bench --uri mongodb://127.0.0.1:27017/ [--seconds 5] [--rate 500]
//                      [--streams 1,100,1000] [--resume 1,1000,100000]
//
// Fan-out table, one row per number of open streams N: N collection streams (each its own
// client, connection and thread, blocked in getMore with maxAwaitTimeMS 100) watch one
// collection while one writer inserts --rate documents/s (0: as fast as it can, w:1) for
// --seconds. Each document carries its insert time; each delivery's latency is
// "delivered - inserted" on one steady clock (writer and readers share the process).
// Reports inserts/s, events delivered/s (summed over the N streams, from the first insert
// to the last delivery), p50/p99 latency, and the share of the N x inserts delivered.
//
// Resume table: after writing max(--resume) + 1 events, resumes from the token K events
// before the last one and reports the time from opening the stream (the aggregate) to its
// first event, and to the K-th (the whole backlog). Resuming must be a seek: the first
// column should not grow with K.

#include <mongoc/mongoc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017/?directConnection=true";
  double seconds = 5;
  int rate = 500;
  std::vector<int> streams = {1, 100, 1000};
  std::vector<int> resume = {1, 1000, 100000};
};

const Clock::time_point kEpoch = Clock::now();

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - kEpoch).count(); }

mongoc_client_t* Connect(const Options& opt) {
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(opt.uri.c_str(), &error);
  if (!uri) {
    std::fprintf(stderr, "bad --uri: %s\n", error.message);
    std::exit(2);
  }
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  mongoc_uri_destroy(uri);
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  return client;
}

void Fail(const char* what, const bson_error_t& error) {
  std::fprintf(stderr, "%s failed: %s\n", what, error.message);
  std::exit(1);
}

void DropCollection(const Options& opt, const char* name) {
  mongoc_client_t* c = Connect(opt);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", name);
  bson_error_t error;
  mongoc_collection_drop(coll, &error);  // absent is fine
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::atoi(part.c_str()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// ---- fan-out --------------------------------------------------------------------------

struct Reader {
  std::vector<double> latencies_ms;
  uint64_t events = 0;
  Clock::time_point last_delivery;
  bool failed = false;
};

struct FanOutState {
  std::atomic<int> opened{0};
  std::atomic<bool> writer_done{false};
  std::atomic<uint64_t> written{0};
  Clock::time_point give_up;  // set before writer_done
};

void RunReader(const Options& opt, FanOutState* st, Reader* out) {
  mongoc_client_t* c = Connect(opt);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_fanout");
  bson_t* pipeline = BCON_NEW("pipeline", "[", "]");
  bson_t* opts = BCON_NEW("maxAwaitTimeMS", BCON_INT64(100));
  mongoc_change_stream_t* cs = mongoc_collection_watch(coll, pipeline, opts);
  st->opened.fetch_add(1);
  const bson_t* doc;
  bson_error_t error;
  for (;;) {
    if (mongoc_change_stream_next(cs, &doc)) {
      int64_t now = NowNs();
      bson_iter_t it;
      if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "fullDocument.t", &it)) {
        out->latencies_ms.push_back(static_cast<double>(now - bson_iter_as_int64(&it)) / 1e6);
      }
      ++out->events;
      out->last_delivery = Clock::now();
      continue;
    }
    if (mongoc_change_stream_error_document(cs, &error, nullptr)) {
      std::fprintf(stderr, "stream failed: %s\n", error.message);
      out->failed = true;
      break;
    }
    if (st->writer_done.load() && (out->events >= st->written.load() || Clock::now() > st->give_up)) break;
  }
  mongoc_change_stream_destroy(cs);
  bson_destroy(opts);
  bson_destroy(pipeline);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

void FanOutCell(const Options& opt, int n) {
  DropCollection(opt, "cs_fanout");
  FanOutState st;
  std::vector<Reader> readers(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(RunReader, std::cref(opt), &st, &readers[static_cast<size_t>(i)]);
  while (st.opened.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  mongoc_client_t* c = Connect(opt);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_fanout");
  bson_error_t error;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
  int64_t id = 0;
  while (Clock::now() < end) {
    if (opt.rate > 0) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             static_cast<double>(id) / opt.rate));
      if (due > Clock::now()) std::this_thread::sleep_until(due);
    }
    bson_t* doc = BCON_NEW("_id", BCON_INT64(id), "t", BCON_INT64(NowNs()));
    bool ok = mongoc_collection_insert_one(coll, doc, nullptr, nullptr, &error);
    bson_destroy(doc);
    if (!ok) Fail("insert", error);
    ++id;
    st.written.store(static_cast<uint64_t>(id));
  }
  double write_secs = std::chrono::duration<double>(Clock::now() - start).count();
  st.give_up = Clock::now() + std::chrono::seconds(30);
  st.writer_done.store(true);
  for (auto& t : threads) t.join();
  Clock::time_point last = start;
  for (const auto& r : readers) last = std::max(last, r.last_delivery);
  // Delivery rate over the span from the first insert to the last delivery.
  double total_secs = std::max(1e-9, std::chrono::duration<double>(last - start).count());
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);

  std::vector<double> all;
  uint64_t delivered = 0;
  int failed = 0;
  for (auto& r : readers) {
    delivered += r.events;
    failed += r.failed ? 1 : 0;
    all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
  }
  double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf("| %7d | %9.0f | %12.0f | %10.3f | %10.3f | %7.1f%% |%s\n", n, static_cast<double>(id) / write_secs,
              static_cast<double>(delivered) / total_secs, p50, p99,
              id > 0 ? 100.0 * static_cast<double>(delivered) / (static_cast<double>(id) * n) : 0.0,
              failed ? " (some streams failed)" : "");
  std::fflush(stdout);
}

// ---- resume ---------------------------------------------------------------------------

// Writes `count` events and returns the resume token of each (BSON bytes), in order.
// (Bytes, not bson_t*: bson_t's alignment attribute does not survive a template argument.)
std::vector<std::string> WriteAndCollectTokens(const Options& opt, int count) {
  DropCollection(opt, "cs_resume");
  mongoc_client_t* c = Connect(opt);
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

void ResumeCell(const Options& opt, const std::vector<std::string>& tokens, int back) {
  mongoc_client_t* c = Connect(opt);
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", "cs_resume");
  bson_t* pipeline = BCON_NEW("pipeline", "[", "]");
  const std::string& bytes = tokens[tokens.size() - 1 - static_cast<size_t>(back)];
  bson_t token;
  bson_init_static(&token, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  bson_t* opts = BCON_NEW("maxAwaitTimeMS", BCON_INT64(200), "resumeAfter", BCON_DOCUMENT(&token));
  auto start = Clock::now();
  mongoc_change_stream_t* cs = mongoc_collection_watch(coll, pipeline, opts);
  const bson_t* doc;
  bson_error_t error;
  int seen = 0;
  double first_ms = -1;
  auto give_up = start + std::chrono::minutes(5);
  while (seen < back && Clock::now() < give_up) {
    if (mongoc_change_stream_next(cs, &doc)) {
      if (seen++ == 0) first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    } else if (mongoc_change_stream_error_document(cs, &error, nullptr)) {
      Fail("resume", error);
    }
  }
  double all_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("| %11d | %16.3f | %14.3f | %9.0f |\n", back, first_ms, all_ms,
              all_ms > 0 ? seen / (all_ms / 1000.0) : 0.0);
  std::fflush(stdout);
  mongoc_change_stream_destroy(cs);
  bson_destroy(opts);
  bson_destroy(pipeline);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--uri") opt.uri = next();
    else if (a == "--seconds") opt.seconds = std::atof(next().c_str());
    else if (a == "--rate") opt.rate = std::atoi(next().c_str());
    else if (a == "--streams") opt.streams = ParseList(next());
    else if (a == "--resume") opt.resume = ParseList(next());
    else if (a == "--help" || a == "-h") {
      std::printf("usage: cs_bench [--uri URI] [--seconds S] [--rate INSERTS_PER_S|0] "
                  "[--streams 1,100,1000] [--resume 1,1000,100000]\n");
      return 0;
    } else {
      std::fprintf(stderr, "unknown flag %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  mongoc_init();
  {
    mongoc_client_t* c = Connect(opt);
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
    std::printf("| streams | inserts/s |  delivered/s |   p50 (ms) |   p99 (ms) | delivered |\n");
    std::printf("|---------|-----------|--------------|------------|------------|-----------|\n");
    for (int n : opt.streams) {
      if (n > 0) FanOutCell(opt, n);
    }
  }
  int max_back = 0;
  for (int k : opt.resume) max_back = std::max(max_back, k);
  if (max_back > 0) {
    std::vector<std::string> tokens = WriteAndCollectTokens(opt, max_back + 1);
    std::printf("\n| events back | first event (ms) | all events (ms) | events/s |\n");
    std::printf("|-------------|------------------|-----------------|-----------|\n");
    for (int k : opt.resume) {
      if (k > 0) ResumeCell(opt, tokens, k);
    }
  }
  mongoc_cleanup();
  return 0;
}
