#pragma once
// BrookdProcess: starts build/bin/brookd on a free loopback port with a temporary
// --dbpath for one test binary, and stops it. Used by the C-driver end-to-end tests.
// Thread-safety: one owner thread.

#include <string>
#include <sys/types.h>
#include <vector>

namespace brook::testing {

class BrookdProcess {
 public:
  struct Options {
    std::vector<std::string> extra_args;  // more brookd flags, e.g. --tlsMode requireTLS
    std::string uri_options;              // appended to uri(), e.g. "&tls=true&tlsCAFile=..."
  };
  // Starts brookd and waits until it answers ping (up to 20 s, through uri()); aborts
  // the test run with the log's tail if it does not.
  BrookdProcess();
  explicit BrookdProcess(Options options);
  ~BrookdProcess();  // stops the server and removes the dbpath

  int port() const { return port_; }
  std::string uri() const;  // mongodb://127.0.0.1:PORT/?directConnection=true + uri_options
  void Stop();              // SIGTERM and wait
  void Kill9();             // SIGKILL and wait
  void Start();             // (re)starts on the same port and dbpath

 private:
  void WaitUntilReady();
  Options options_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string dbpath_;
  std::string logpath_;
};

}  // namespace brook::testing
