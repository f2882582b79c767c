#include "watch_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace brook::testing {

TempDir::TempDir() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/brook-watch-e2e-XXXXXX";
  path_ = mkdtemp(tmpl.data());
}
TempDir::~TempDir() {
  if (!std::getenv("BROOK_KEEP_TMP")) std::filesystem::remove_all(path_);
}

namespace {

// The live WatchProcess objects, for the failure listener. Test threads only.
std::mutex g_live_mu;
std::set<WatchProcess*>& Live() {
  static std::set<WatchProcess*> live;
  return live;
}

// A failed assertion kills the test's watchers at once: whatever the test does next
// (returning, waiting, crashing), no watcher keeps running after a failure.
class KillWatchersOnFailure : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed()) KillAllWatchProcesses();
  }
};

void RegisterFailureListener() {
  static std::once_flag once;
  std::call_once(once, [] { ::testing::UnitTest::GetInstance()->listeners().Append(new KillWatchersOnFailure); });
}

}  // namespace

void KillAllWatchProcesses() {
  std::lock_guard<std::mutex> lock(g_live_mu);
  for (WatchProcess* w : Live()) w->Kill9();
}

WatchProcess::WatchProcess(std::vector<std::string> args, std::string log_path, std::string out_path)
    : args_(std::move(args)), log_path_(std::move(log_path)), out_path_(std::move(out_path)) {
  RegisterFailureListener();
  std::lock_guard<std::mutex> lock(g_live_mu);
  Live().insert(this);
}

WatchProcess::~WatchProcess() {
  {
    std::lock_guard<std::mutex> lock(g_live_mu);
    Live().erase(this);
  }
  Kill9();
}

void WatchProcess::Start() {
  log_size_at_start_ = Slurp(log_path_).size();
  last_exit_ = -1000;
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // Dies with the test (even a crashed one); the check covers a parent that died
    // before the prctl.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, 2);
    int out = open(out_path_.empty() ? "/dev/null" : out_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) dup2(out, 1);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    close_range(3, ~0U, 0);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(BROOK_PATH));
    argv.push_back(const_cast<char*>("watch"));
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(BROOK_PATH, argv.data());
    _exit(127);
  }
}

void WatchProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int WatchProcess::Wait(int ms) {
  if (pid_ <= 0) return last_exit_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      last_exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      return last_exit_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1000;
}

int WatchProcess::Term() {
  if (pid_ <= 0) return -1000;
  // Its first log line comes after the signal handlers are installed: a SIGTERM before
  // that would kill it instead of stopping it cleanly.
  WaitFor([&] { return Slurp(log_path_).size() > log_size_at_start_ || !Running(); }, 10000);
  if (pid_ <= 0) return last_exit_;
  kill(pid_, SIGTERM);
  int rc = Wait(30000);
  if (rc == -1000) Kill9();
  return rc;
}

bool WatchProcess::Running() {
  if (pid_ <= 0) return false;
  int status;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    last_exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

std::string WatchProcess::Log() const { return Slurp(log_path_); }

Client::Client(const std::string& uri) {
  c_ = mongoc_client_new(uri.c_str());
  if (!c_) throw std::runtime_error("bad uri " + uri);
  mongoc_client_set_error_api(c_, MONGOC_ERROR_API_VERSION_2);
}
Client::~Client() { mongoc_client_destroy(c_); }

std::string Client::Command(const std::string& db, const std::string& json, std::string* error) {
  bson_error_t err;
  bson_t* cmd = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()), static_cast<ssize_t>(json.size()), &err);
  if (!cmd) {
    if (error) *error = err.message;
    return "";
  }
  bson_t reply;
  bool ok = mongoc_client_command_simple(c_, db.c_str(), cmd, nullptr, &reply, &err);
  bson_destroy(cmd);
  std::string out;
  if (ok) {
    char* s = bson_as_relaxed_extended_json(&reply, nullptr);
    out = s;
    bson_free(s);
  } else if (error) {
    *error = err.message;
  }
  bson_destroy(&reply);
  return out;
}

std::pair<uint32_t, uint32_t> Client::OperationTime() {
  bson_t* cmd = BCON_NEW("ping", BCON_INT32(1));
  bson_t reply;
  bson_error_t err;
  std::pair<uint32_t, uint32_t> t{0, 0};
  if (mongoc_client_command_simple(c_, "admin", cmd, nullptr, &reply, &err)) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, &reply, "operationTime") && BSON_ITER_HOLDS_TIMESTAMP(&it))
      bson_iter_timestamp(&it, &t.first, &t.second);
  }
  bson_destroy(cmd);
  bson_destroy(&reply);
  return t;
}

std::vector<std::string> Client::FindAll(const std::string& db, const std::string& coll) {
  mongoc_collection_t* c = mongoc_client_get_collection(c_, db.c_str(), coll.c_str());
  bson_t filter = BSON_INITIALIZER;
  bson_t* opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c, &filter, opts, nullptr);
  std::vector<std::string> out;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) {
    char* s = bson_as_relaxed_extended_json(doc, nullptr);
    out.emplace_back(s);
    bson_free(s);
  }
  mongoc_cursor_destroy(cursor);
  bson_destroy(opts);
  mongoc_collection_destroy(c);
  return out;
}

BrookdWithArgs::BrookdWithArgs(std::vector<std::string> extra) {
  char tmpl[] = "/tmp/brook-watch-srv-XXXXXX";
  dbpath_ = mkdtemp(tmpl);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  close(fd);
  std::string port = std::to_string(port_);
  std::string log = dbpath_ + "/brookd.log";
  std::vector<std::string> args = {BROOKD_PATH, "--port", port, "--dbpath", dbpath_ + "/data",
                                   "--setParameter", "enableTestCommands=1"};
  std::filesystem::create_directories(dbpath_ + "/data");
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // as WatchProcess: never outlives the test
    if (getppid() != parent) _exit(126);
    int lfd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (lfd >= 0) {
      dup2(lfd, 1);
      dup2(lfd, 2);
    }
    close_range(3, ~0U, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(BROOKD_PATH, argv.data());
    _exit(127);
  }
  bool up = WaitFor(
      [&] {
        Client c(uri() + "&serverSelectionTimeoutMS=200");
        std::string err;
        return !c.Command("admin", R"({"ping": 1})", &err).empty();
      },
      20000);
  if (!up) throw std::runtime_error("brookd did not start; log: " + Slurp(log));
}

BrookdWithArgs::~BrookdWithArgs() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  std::filesystem::remove_all(dbpath_);
}

std::string BrookdWithArgs::uri() const {
  return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?directConnection=true";
}

HttpReceiver::Policy FlakyCheckingCheckpoint(std::string ckpt_path, std::atomic<bool>* ahead) {
  auto flaky = HttpReceiver::Flaky();
  return [flaky, ckpt_path = std::move(ckpt_path), ahead](int n, const std::string& body) {
    // Every event at or before the checkpoint must have been acknowledged: so the
    // checkpoint must sort before the first (not yet acknowledged) event of this request.
    // Tokens order as their uppercase _data hex strings do (KeyString bytes, memcmp).
    std::string ck = Slurp(ckpt_path);
    auto pos = ck.find("\"_data\" : \"");
    auto first = body.find("\"_data\" : \"");
    if (pos != std::string::npos && first != std::string::npos) {
      std::string data = ck.substr(pos + 11, ck.find('"', pos + 11) - pos - 11);
      std::string first_data = body.substr(first + 11, body.find('"', first + 11) - first - 11);
      if (data >= first_data) *ahead = true;
    }
    return flaky(n, body);
  };
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<std::string> ReferenceEvents(const std::string& uri, const std::string& db, const std::string& coll,
                                         std::pair<uint32_t, uint32_t> start, size_t count, int timeout_ms,
                                         const std::string& opts_json) {
  Client client(uri);
  mongoc_collection_t* c = mongoc_client_get_collection(client.get(), db.c_str(), coll.c_str());
  bson_error_t err;
  bson_t* opts = bson_new_from_json(reinterpret_cast<const uint8_t*>(opts_json.data()),
                                    static_cast<ssize_t>(opts_json.size()), &err);
  BSON_APPEND_TIMESTAMP(opts, "startAtOperationTime", start.first, start.second);
  BSON_APPEND_INT64(opts, "maxAwaitTimeMS", 200);
  bson_t pipeline = BSON_INITIALIZER;
  mongoc_change_stream_t* stream = mongoc_collection_watch(c, &pipeline, opts);
  std::vector<std::string> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const bson_t* ev;
  auto last_event = std::chrono::steady_clock::now();
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (mongoc_change_stream_next(stream, &ev)) {
      char* s = bson_as_relaxed_extended_json(ev, nullptr);
      out.emplace_back(s);
      bson_free(s);
      last_event = std::chrono::steady_clock::now();
    } else if (mongoc_change_stream_error_document(stream, &err, nullptr)) {
      break;
    } else if (std::chrono::steady_clock::now() - last_event > std::chrono::milliseconds(1500)) {
      break;  // idle: the sequence is complete
    }
  }
  mongoc_change_stream_destroy(stream);
  bson_destroy(&pipeline);
  bson_destroy(opts);
  mongoc_collection_destroy(c);
  return out;
}

Writer::Writer(std::string uri, std::string db, std::string coll, int64_t total, int64_t pause_every)
    : uri_(std::move(uri)), db_(std::move(db)), coll_(std::move(coll)), total_(total), pause_every_(pause_every) {}
Writer::~Writer() { Join(); }
void Writer::Start() { thread_ = std::thread([this] { Run(); }); }
void Writer::Join() {
  if (thread_.joinable()) thread_.join();
}

void Writer::Run() {
  Client client(uri_ + "&retryWrites=true&serverSelectionTimeoutMS=2000");
  mongoc_collection_t* c = mongoc_client_get_collection(client.get(), db_.c_str(), coll_.c_str());
  for (int64_t i = 0; i < total_; ++i) {
    // Keys 0..499: inserted first, then mostly updated ($set seq, upsert), sometimes
    // deleted (i % 101) or replaced (i % 97, upsert).
    int64_t key = i % 500;
    bson_error_t err;
    for (;;) {
      bool ok;
      bson_t* sel = BCON_NEW("_id", BCON_INT64(key));
      if (i < 500) {
        bson_t* doc = BCON_NEW("_id", BCON_INT64(key), "seq", BCON_INT64(i), "pad", BCON_UTF8("x"));
        ok = mongoc_collection_insert_one(c, doc, nullptr, nullptr, &err);
        bson_destroy(doc);
      } else if (i % 101 == 0) {
        ok = mongoc_collection_delete_one(c, sel, nullptr, nullptr, &err);
      } else if (i % 97 == 0) {
        bson_t* rep = BCON_NEW("seq", BCON_INT64(i), "replaced", BCON_BOOL(true));
        bson_t* upsert = BCON_NEW("upsert", BCON_BOOL(true));
        ok = mongoc_collection_replace_one(c, sel, rep, upsert, nullptr, &err);
        bson_destroy(upsert);
        bson_destroy(rep);
      } else {
        // Upsert: a key deleted earlier comes back (an insert event), so every write is
        // one event.
        bson_t* upd = BCON_NEW("$set", "{", "seq", BCON_INT64(i), "}");
        bson_t* upsert = BCON_NEW("upsert", BCON_BOOL(true));
        ok = mongoc_collection_update_one(c, sel, upd, upsert, nullptr, &err);
        bson_destroy(upsert);
        bson_destroy(upd);
      }
      bson_destroy(sel);
      // A write may have committed before a server restart cut its reply; retrying an
      // insert then fails with a duplicate key, which means it is done.
      if (ok || err.code == 11000) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    done_ = i + 1;
    if (pause_every_ && (i + 1) % pause_every_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  mongoc_collection_destroy(c);
}

bool WaitFor(const std::function<bool()>& pred, int ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

}  // namespace brook::testing
