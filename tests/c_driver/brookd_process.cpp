#include "brookd_process.h"

#include <arpa/inet.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace brook::testing {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace

BrookdProcess::BrookdProcess() : BrookdProcess(Options{}) {}

BrookdProcess::BrookdProcess(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/brook-c-test-XXXXXX";
  dbpath_ = mkdtemp(tmpl);
  logpath_ = dbpath_ + ".log";
  port_ = FreePort();
  Start();
}

BrookdProcess::~BrookdProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dbpath_, ec);
  std::filesystem::remove(logpath_, ec);
}

std::string BrookdProcess::uri() const {
  return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?directConnection=true" + options_.uri_options;
}

void BrookdProcess::Start() {
  std::string port = std::to_string(port_);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // A test binary that crashes must not leave its server running.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    FILE* log = std::fopen(logpath_.c_str(), "a");
    if (log) {
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
    }
    std::vector<std::string> args = {BROOKD_PATH, "--port", port, "--dbpath", dbpath_,
                                     "--setParameter", "enableTestCommands=1"};
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(BROOKD_PATH, argv.data());
    _exit(127);
  }
  WaitUntilReady();
}

void BrookdProcess::WaitUntilReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  mongoc_uri_t* uri = mongoc_uri_new((this->uri() + "&serverSelectionTimeoutMS=200").c_str());
  while (std::chrono::steady_clock::now() < deadline) {
    mongoc_client_t* client = mongoc_client_new_from_uri(uri);
    bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t error;
    bool ok = mongoc_client_command_simple(client, "admin", ping, nullptr, nullptr, &error);
    bson_destroy(ping);
    mongoc_client_destroy(client);
    if (ok) {
      mongoc_uri_destroy(uri);
      return;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) break;  // exited early
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  mongoc_uri_destroy(uri);
  std::fprintf(stderr, "brookd did not become ready; log tail:\n%s\n", Tail(logpath_).c_str());
  std::abort();
}

void BrookdProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void BrookdProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace brook::testing
