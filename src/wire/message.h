#pragma once
// MongoDB wire-protocol framing: the message header, OP_MSG, and the legacy OP_QUERY /
// OP_REPLY pair that old drivers still use for their first handshake.
//
// Owns: turning untrusted bytes into checked requests and replies into bytes. Nothing
// here trusts a length it has not checked against the bytes actually present, and every
// BSON document passes bson::Validate before it becomes a bson::View.
//
// Error policy (the server acts on it):
//   - ParseHeader failures (lying length, unknown opcode) mean the stream can no longer be
//     framed: log and close the connection.
//   - ParseOpMsg / ParseOpQuery failures concern one well-framed message: answer with an
//     error reply (InvalidBSON 22 for bad documents, MongoDB's codes for the rest) and
//     keep the connection, unless the request said moreToCome (no reply possible: close).
//
// On-wire facts: all integers little-endian; header = {int32 messageLength, int32
// requestID, int32 responseTo, int32 opCode}; OP_MSG = header, uint32 flagBits, sections
// (kind 0: one BSON body; kind 1: int32 size, cstring identifier, BSON documents), then
// an optional CRC-32C of everything before it (flag bit 0).
// Thread-safety: pure functions on values.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bson/document.h"
#include "util/status.h"

namespace brook::wire {

enum class OpCode : int32_t {
  kReply = 1,
  kQuery = 2004,
  kCompressed = 2012,
  kMsg = 2013,
};

inline constexpr int32_t kHeaderSize = 16;
// Advertised in hello; bigger frames are refused before any byte of the body is read.
inline constexpr int32_t kMaxMessageSizeBytes = 48'000'000;
inline constexpr int32_t kMaxBsonObjectSize = 16 * 1024 * 1024;
// A command body may exceed a stored document by the room for the command's own fields.
inline constexpr int32_t kMaxCommandBodySize = kMaxBsonObjectSize + 16 * 1024;

// OP_MSG flagBits.
inline constexpr uint32_t kChecksumPresent = 1u << 0;
inline constexpr uint32_t kMoreToCome = 1u << 1;
inline constexpr uint32_t kExhaustAllowed = 1u << 16;

struct MessageHeader {
  int32_t message_length = 0;
  int32_t request_id = 0;
  int32_t response_to = 0;
  int32_t op_code = 0;
};

// Parses and checks the first kHeaderSize bytes of a frame: the length must lie in
// [kHeaderSize + 1, kMaxMessageSizeBytes] and the opcode must be one Brook reads
// (OP_MSG, OP_QUERY, OP_COMPRESSED). ProtocolError otherwise: close the connection.
StatusWith<MessageHeader> ParseHeader(std::string_view bytes);
void WriteHeader(const MessageHeader& header, char* out);  // writes kHeaderSize bytes

// A parsed OP_MSG request. Kind-1 document sequences are merged into `body` as array
// fields named by their identifiers (after the body's own fields), so a command handler
// sees one document whatever the driver chose to send as a sequence.
struct OpMsg {
  uint32_t flags = 0;
  bson::Doc body;

  bool checksum_present() const { return flags & kChecksumPresent; }
  bool more_to_come() const { return flags & kMoreToCome; }
  bool exhaust_allowed() const { return flags & kExhaustAllowed; }
};

// `message` is one whole frame (header included) whose header passed ParseHeader and
// whose opcode is OP_MSG. Errors: IllegalOpMsgFlag (223) for unknown required flag
// bits, ChecksumMismatch (282), InvalidBSON (22), 40430 (two bodies), 40431 (duplicate
// sequence), 40432 (unknown section kind), 40433 (sequence name also in body), 40587
// (no body), ProtocolError (17) for sections that overrun the message, BSONObjectTooLarge
// (10334) for a document beyond kMaxCommandBodySize.
StatusWith<OpMsg> ParseOpMsg(std::string_view message);

// Flags of an OP_MSG frame without parsing it (0 when too short). Lets the server
// learn moreToCome even when the message is otherwise malformed.
uint32_t PeekOpMsgFlags(std::string_view message);

// Builds an OP_MSG frame with one kind-0 section. With kChecksumPresent in `flags` the
// CRC-32C is appended.
std::string BuildOpMsg(int32_t request_id, int32_t response_to, uint32_t flags, bson::View body);

// Builds an OP_MSG with one kind-1 sequence after the body (tests and tools use it).
std::string BuildOpMsgWithSequence(int32_t request_id, int32_t response_to, uint32_t flags,
                                   bson::View body, std::string_view identifier,
                                   const std::vector<bson::View>& documents);

// A parsed OP_QUERY. Brook answers it only for the legacy handshake on "<db>.$cmd".
struct OpQuery {
  int32_t flags = 0;
  std::string full_collection_name;
  int32_t number_to_skip = 0;
  int32_t number_to_return = 0;
  bson::Doc query;
};

StatusWith<OpQuery> ParseOpQuery(std::string_view message);
std::string BuildOpQuery(int32_t request_id, std::string_view full_collection_name,
                         bson::View query);

// OP_REPLY carrying one document (responseFlags 0 unless given, cursorID 0,
// startingFrom 0, numberReturned 1).
std::string BuildOpReply(int32_t request_id, int32_t response_to, bson::View doc,
                         int32_t response_flags = 0);
// Reads the single document of an OP_REPLY (tests and tools).
StatusWith<bson::Doc> ParseOpReply(std::string_view message);

// Little-endian helpers shared by the wire files.
int32_t ReadLE32(const char* p);
void WriteLE32(char* p, int32_t v);

}  // namespace brook::wire
