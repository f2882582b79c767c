#pragma once
// `brook token decode TOKEN`: prints what a change-stream resume token holds.
// Thread-safety: single-threaded CLI code.

#include <string>

namespace brook::tools {

// TOKEN is the hex of _data, or a token document in Extended JSON ({"_data": "..."}).
// Prints a relaxed Extended JSON document to stdout; returns the process exit code.
int RunTokenDecode(const std::string& token);

}  // namespace brook::tools
