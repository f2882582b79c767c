// Fuzz target: one frame as a client sends it, through the same steps as
// server/connection.cpp: the header check, the read of message_length bytes, OP_COMPRESSED
// inflation, then OP_MSG (or the legacy OP_QUERY) parsing. A parsed body is walked
// field by field, so anything the parser let through unchecked is read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "wire/compression.h"
#include "wire/message.h"

namespace {

void ParseFrame(std::string_view frame, int32_t op_code, bool inflated) {
  using brook::wire::OpCode;
  switch (static_cast<OpCode>(op_code)) {
    case OpCode::kMsg: {
      (void)brook::wire::PeekOpMsgFlags(frame);
      auto msg = brook::wire::ParseOpMsg(frame);
      if (msg.ok()) (void)brook::fuzz::Walk(msg.value().body);
      break;
    }
    case OpCode::kQuery: {
      auto q = brook::wire::ParseOpQuery(frame);
      if (q.ok()) (void)brook::fuzz::Walk(q.value().query);
      break;
    }
    case OpCode::kCompressed: {
      if (inflated) break;  // the server refuses compression inside compression
      auto out = brook::wire::DecompressMessage(frame);
      if (!out.ok()) break;
      const std::string& original = out.value();
      if (original.size() < static_cast<size_t>(brook::wire::kHeaderSize)) __builtin_trap();
      ParseFrame(original, brook::wire::ReadLE32(original.data() + 12), true);
      break;
    }
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() < static_cast<size_t>(brook::wire::kHeaderSize)) return 0;
  auto header = brook::wire::ParseHeader(bytes.substr(0, brook::wire::kHeaderSize));
  if (!header.ok()) return 0;
  // The server reads exactly message_length bytes and nothing else belongs to the frame;
  // a shorter input is a client that has not finished sending.
  const size_t length = static_cast<size_t>(header.value().message_length);
  if (length > bytes.size()) return 0;
  // Copy the frame into its own buffer so that reads past it are caught by ASan.
  std::string frame(bytes.substr(0, length));
  ParseFrame(frame, header.value().op_code, false);
  return 0;
}
