// The exec: sink (at least once): see sink.h.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "watch/http_client.h"
#include "watch/sink.h"

namespace brook::watch {
namespace {

class ExecSink : public Sink {
 public:
  explicit ExecSink(std::string command) : command_(std::move(command)) {}
  Status Open(std::optional<int64_t>) override { return Status::OK(); }

  Status Deliver(const std::vector<std::string>& lines, size_t* acked) override {
    *acked = 0;
    for (const std::string& line : lines) {
      BROOK_RETURN_IF_ERROR(RunOne(line));
      ++*acked;
    }
    return Status::OK();
  }
  bool RetryOnError() const override { return true; }
  std::string Describe() const override { return "exec:" + command_; }

 private:
  Status RunOne(const std::string& line) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return Status(ErrorCodes::kInternalError, std::string("exec sink: pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return Status(ErrorCodes::kInternalError, std::string("exec sink: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::dup2(fds[0], 0);
      ::signal(SIGPIPE, SIG_DFL);
      ::execl("/bin/sh", "sh", "-c", command_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    // A command that does not read its stdin is fine (EPIPE): its exit status decides.
    // SIGPIPE is blocked around the write and a pending one consumed, so this works even
    // in a process that did not ignore SIGPIPE.
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    bool got_epipe = false;
    size_t done = 0;
    while (done < line.size()) {
      ssize_t n = ::write(fds[1], line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        got_epipe = errno == EPIPE;
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (got_epipe) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
    ::close(fds[1]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
    std::string why = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                        : "was killed by signal " + std::to_string(WTERMSIG(status));
    return Status(ErrorCodes::kOperationFailed, "exec sink: '" + command_ + "' " + why);
  }

  std::string command_;
};

class HttpSink : public Sink {
 public:
  HttpSink(std::string url, StatusWith<HttpUrl> parsed, TlsOptions tls)
      : url_(std::move(url)), parsed_(std::move(parsed)), tls_(std::move(tls)) {}
  Status Open(std::optional<int64_t>) override {
    if (!parsed_.ok()) return parsed_.status().WithContext("--sink");
    client_ = std::make_unique<HttpClient>(parsed_.value(), tls_);
    // A CA file that cannot be loaded is a setup error, reported now rather than retried.
    Status s = client_->Prepare();
    if (!s.ok()) return s.WithContext(tls_.ca_file.empty() ? "--sink" : "--sink-ca-file");
    return Status::OK();
  }
  Status Deliver(const std::vector<std::string>& lines, size_t* acked) override {
    *acked = 0;
    // One POST per batch, at most ~8 MiB each, so a receiver never sees a huge body.
    size_t i = 0;
    while (i < lines.size()) {
      std::string body;
      size_t start = i;
      while (i < lines.size() && (body.empty() || body.size() + lines[i].size() <= kMaxBody)) body += lines[i++];
      auto code = client_->Post(body, "application/x-ndjson");
      if (!code.ok()) return code.status().WithContext("http sink " + url_);
      if (code.value() < 200 || code.value() > 299)
        return Status(ErrorCodes::kOperationFailed,
                      "http sink " + url_ + " answered HTTP " + std::to_string(code.value()) + " to a POST of " +
                          std::to_string(i - start) + " events");
      *acked = i;
    }
    return Status::OK();
  }
  bool RetryOnError() const override { return true; }
  std::string Describe() const override { return url_; }

 private:
  static constexpr size_t kMaxBody = 8 << 20;
  std::string url_;
  StatusWith<HttpUrl> parsed_;
  TlsOptions tls_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace

std::unique_ptr<Sink> MakeExecSink(const std::string& command) { return std::make_unique<ExecSink>(command); }
std::unique_ptr<Sink> MakeHttpSink(const std::string& url, const std::string& ca_file) {
  TlsOptions tls;
  tls.ca_file = ca_file;
  return std::make_unique<HttpSink>(url, HttpUrl::Parse(url), std::move(tls));
}

}  // namespace brook::watch
