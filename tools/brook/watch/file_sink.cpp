// The file sink (exactly once) and the stdout sink: see sink.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "watch/sink.h"

namespace brook::watch {
namespace {

Status Errno(const std::string& what) {
  return Status(ErrorCodes::kInternalError, what + ": " + std::strerror(errno));
}

// Writes all lines with as few syscalls as possible; returns bytes written or an error.
Status WriteAll(int fd, const std::vector<std::string>& lines, const std::string& what, int64_t* written) {
  *written = 0;
  size_t i = 0;
  std::vector<iovec> iov;
  while (i < lines.size()) {
    iov.clear();
    for (size_t k = i; k < lines.size() && iov.size() < 512; ++k)
      iov.push_back({const_cast<char*>(lines[k].data()), lines[k].size()});
    ssize_t n = ::writev(fd, iov.data(), static_cast<int>(iov.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(what);
    *written += n;
    // Advance over fully written lines; a partly written one is finished with write().
    size_t left = static_cast<size_t>(n);
    while (i < lines.size() && left >= lines[i].size()) left -= lines[i++].size();
    if (left > 0) {
      size_t off = left;
      while (off < lines[i].size()) {
        ssize_t m = ::write(fd, lines[i].data() + off, lines[i].size() - off);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0) return Errno(what);
        off += static_cast<size_t>(m);
        *written += m;
      }
      ++i;
    }
  }
  return Status::OK();
}

class FileSink : public Sink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)) {}
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(std::optional<int64_t> checkpoint_offset) override {
    bool existed = std::filesystem::exists(path_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Errno("--sink file:" + path_ + ": cannot open");
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Errno("--sink file:" + path_ + ": cannot stat");
    int64_t size = st.st_size;
    if (checkpoint_offset) {
      if (size < *checkpoint_offset)
        return Status(ErrorCodes::kBadValue,
                      "sink file " + path_ + " holds " + std::to_string(size) + " bytes but the checkpoint says " +
                          std::to_string(*checkpoint_offset) +
                          " were written: the file was truncated or replaced; refusing to continue "
                          "(move the checkpoint away to start over)");
      if (size > *checkpoint_offset) {
        // Events written after the last checkpoint: they come again from its token.
        if (::ftruncate(fd_, *checkpoint_offset) != 0) return Errno("--sink file:" + path_ + ": cannot truncate");
        if (::fsync(fd_) != 0) return Errno("--sink file:" + path_ + ": cannot fsync");
        note_ = "sink file " + path_ + " truncated from " + std::to_string(size) + " to " +
                std::to_string(*checkpoint_offset) +
                " bytes: the events after the checkpoint are streamed again from its token";
      }
      offset_ = *checkpoint_offset;
    } else {
      offset_ = size;
    }
    if (::lseek(fd_, offset_, SEEK_SET) < 0) return Errno("--sink file:" + path_ + ": cannot seek");
    if (!existed) {
      if (::fsync(fd_) != 0) return Errno("--sink file:" + path_ + ": cannot fsync");
      std::string dir = std::filesystem::path(path_).parent_path().string();
      int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
    return Status::OK();
  }

  Status Deliver(const std::vector<std::string>& lines, size_t* acked) override {
    *acked = 0;
    int64_t written = 0;
    Status s = WriteAll(fd_, lines, "--sink file:" + path_ + ": write failed", &written);
    if (!s.ok()) return s;
    if (::fdatasync(fd_) != 0) return Errno("--sink file:" + path_ + ": fdatasync failed");
    offset_ += written;
    *acked = lines.size();
    return Status::OK();
  }

  std::optional<int64_t> Offset() const override { return offset_; }
  bool RetryOnError() const override { return false; }
  std::string Describe() const override { return "file:" + path_; }
  std::string OpenNote() const override { return note_; }

 private:
  std::string path_;
  std::string note_;
  int fd_ = -1;
  int64_t offset_ = 0;
};

class StdoutSink : public Sink {
 public:
  explicit StdoutSink(int fd) : fd_(fd) {}
  Status Open(std::optional<int64_t>) override { return Status::OK(); }
  Status Deliver(const std::vector<std::string>& lines, size_t* acked) override {
    *acked = 0;
    int64_t written = 0;
    Status s = WriteAll(fd_, lines, "--sink stdout: write failed", &written);
    if (!s.ok()) return s;
    *acked = lines.size();
    return Status::OK();
  }
  bool RetryOnError() const override { return false; }
  std::string Describe() const override { return "stdout"; }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<Sink> MakeFileSink(const std::string& path) { return std::make_unique<FileSink>(path); }
std::unique_ptr<Sink> MakeStdoutSink(int fd) { return std::make_unique<StdoutSink>(fd); }

std::unique_ptr<Sink> MakeSink(const SinkSpec& spec) {
  switch (spec.kind) {
    case SinkSpec::Kind::kStdout:
      return MakeStdoutSink(1);
    case SinkSpec::Kind::kFile:
      return MakeFileSink(spec.target);
    case SinkSpec::Kind::kHttp:
      return MakeHttpSink(spec.target, spec.ca_file);
    case SinkSpec::Kind::kExec:
      return MakeExecSink(spec.target);
  }
  return nullptr;
}

}  // namespace brook::watch
