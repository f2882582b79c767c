#pragma once
// Sinks: where `brook watch` delivers events (one Extended JSON line each).
//
// Owns: the Sink interface and the factory. Guarantees by kind:
//   file:PATH  exactly once. Deliver appends and fsyncs; Offset() is the durable length,
//              recorded in the checkpoint with the token; Open(offset) truncates the file
//              back to the checkpointed offset, dropping events written after the last
//              checkpoint (they are streamed again from that checkpoint's token).
//   stdout     at least once: acknowledged when written (write errors are fatal).
//   http(s):// at least once: a batch is one POST of JSON lines; acknowledged on a 2xx.
//              https:// verifies the receiver's certificate (see http_client.h).
//   exec:CMD   at least once: `/bin/sh -c CMD` per event with the event on stdin;
//              acknowledged on exit status 0.
// Every event carries its resume token in _id, so at-least-once receivers can deduplicate.
// Thread-safety: a sink is used by one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "watch/options.h"

namespace brook::watch {

class Sink {
 public:
  virtual ~Sink() = default;
  // Prepares the sink. `checkpoint_offset` is the saved offset for exactly-once sinks
  // (nullopt on a first start: a file sink then appends to what the file holds).
  virtual Status Open(std::optional<int64_t> checkpoint_offset) = 0;
  // Delivers lines in order (each ends with '\n'). Sets *acked to how many leading lines
  // the receiver acknowledged: all of them when OK, possibly some on an error.
  virtual Status Deliver(const std::vector<std::string>& lines, size_t* acked) = 0;
  // Exactly-once sinks: the durable length after the last Deliver; nullopt otherwise.
  virtual std::optional<int64_t> Offset() const { return std::nullopt; }
  // True when a failed Deliver may be retried (the receiver may recover); false when an
  // error must stop the processor (a file sink's write or fsync failed).
  virtual bool RetryOnError() const = 0;
  virtual std::string Describe() const = 0;
  // What Open did that a user should know (a file sink's truncation), or "".
  virtual std::string OpenNote() const { return ""; }
};

std::unique_ptr<Sink> MakeSink(const SinkSpec& spec);

// Exposed for tests.
std::unique_ptr<Sink> MakeFileSink(const std::string& path);
std::unique_ptr<Sink> MakeStdoutSink(int fd = 1);
std::unique_ptr<Sink> MakeExecSink(const std::string& command);
// `ca_file`: for https://, the PEM CA certificates to trust instead of the system's.
std::unique_ptr<Sink> MakeHttpSink(const std::string& url, const std::string& ca_file = "");

}  // namespace brook::watch
