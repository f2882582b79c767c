#include "wire/message.h"

#include <bitset>
#include <cstring>
#include <set>
#include <vector>

#include "bson/builder.h"
#include "bson/validate.h"
#include "wire/crc32c.h"

namespace brook::wire {

int32_t ReadLE32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return static_cast<int32_t>(uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) |
                              (uint32_t{u[3]} << 24));
}

void WriteLE32(char* p, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  p[0] = static_cast<char>(u & 0xFF);
  p[1] = static_cast<char>((u >> 8) & 0xFF);
  p[2] = static_cast<char>((u >> 16) & 0xFF);
  p[3] = static_cast<char>((u >> 24) & 0xFF);
}

namespace {

constexpr uint32_t kSupportedRequiredFlags = kChecksumPresent | kMoreToCome;
constexpr uint32_t kRequiredFlagMask = 0xFFFF;  // low 16 bits: must be understood
constexpr size_t kChecksumSize = 4;

void AppendLE32(std::string* out, int32_t v) {
  char b[4];
  WriteLE32(b, v);
  out->append(b, 4);
}

// Validates one BSON document starting at `p` with at most `avail` bytes; on success
// sets *size to its length.
Status CheckDocument(const char* p, size_t avail, size_t* size) {
  if (avail < 5) return Status(ErrorCodes::kInvalidBSON, "BSON document is truncated");
  int32_t len = ReadLE32(p);
  if (len < 5 || static_cast<size_t>(len) > avail) {
    return Status(ErrorCodes::kInvalidBSON,
                  "BSON document length " + std::to_string(len) + " overruns its section");
  }
  if (len > kMaxCommandBodySize) {
    return Status(ErrorCodes::kBSONObjectTooLarge,
                  "BSON size " + std::to_string(len) + " is larger than the maximum of " +
                      std::to_string(kMaxCommandBodySize));
  }
  Status st = bson::Validate(reinterpret_cast<const uint8_t*>(p), static_cast<size_t>(len));
  if (!st.ok()) return Status(ErrorCodes::kInvalidBSON, st.reason());
  *size = static_cast<size_t>(len);
  return Status::OK();
}

// Finishes a frame: fills in the header's length, and the checksum when asked.
std::string FinishFrame(std::string frame, int32_t request_id, int32_t response_to,
                        OpCode op, bool checksum) {
  if (checksum) frame.append(kChecksumSize, '\0');
  MessageHeader h{static_cast<int32_t>(frame.size()), request_id, response_to,
                  static_cast<int32_t>(op)};
  WriteHeader(h, frame.data());
  if (checksum) {
    uint32_t crc = Crc32c(frame.data(), frame.size() - kChecksumSize);
    WriteLE32(frame.data() + frame.size() - kChecksumSize, static_cast<int32_t>(crc));
  }
  return frame;
}

}  // namespace

StatusWith<MessageHeader> ParseHeader(std::string_view bytes) {
  if (bytes.size() < static_cast<size_t>(kHeaderSize)) {
    return Status(ErrorCodes::kProtocolError, "message header is truncated");
  }
  MessageHeader h;
  h.message_length = ReadLE32(bytes.data());
  h.request_id = ReadLE32(bytes.data() + 4);
  h.response_to = ReadLE32(bytes.data() + 8);
  h.op_code = ReadLE32(bytes.data() + 12);
  if (h.message_length <= kHeaderSize || h.message_length > kMaxMessageSizeBytes) {
    return Status(ErrorCodes::kProtocolError,
                  "invalid message length " + std::to_string(h.message_length));
  }
  switch (static_cast<OpCode>(h.op_code)) {
    case OpCode::kMsg:
    case OpCode::kQuery:
    case OpCode::kCompressed:
      return h;
    default:
      return Status(ErrorCodes::kProtocolError,
                    "unsupported opCode " + std::to_string(h.op_code));
  }
}

void WriteHeader(const MessageHeader& header, char* out) {
  WriteLE32(out, header.message_length);
  WriteLE32(out + 4, header.request_id);
  WriteLE32(out + 8, header.response_to);
  WriteLE32(out + 12, header.op_code);
}

uint32_t PeekOpMsgFlags(std::string_view message) {
  if (message.size() < static_cast<size_t>(kHeaderSize) + 4) return 0;
  return static_cast<uint32_t>(ReadLE32(message.data() + kHeaderSize));
}

StatusWith<OpMsg> ParseOpMsg(std::string_view message) {
  if (message.size() < static_cast<size_t>(kHeaderSize) + 4) {
    return Status(ErrorCodes::kProtocolError, "OP_MSG is too short for its flags");
  }
  if (ReadLE32(message.data()) != static_cast<int32_t>(message.size())) {
    return Status(ErrorCodes::kProtocolError, "OP_MSG length does not match its header");
  }
  OpMsg msg;
  msg.flags = PeekOpMsgFlags(message);
  if ((msg.flags & ~kSupportedRequiredFlags & kRequiredFlagMask) != 0) {
    return Status(ErrorCodes::kIllegalOpMsgFlag,
                  "Message contains illegal flags value: Ob" +
                      std::bitset<32>(msg.flags).to_string());
  }
  size_t end = message.size();
  if (msg.checksum_present()) {
    if (end < static_cast<size_t>(kHeaderSize) + 4 + kChecksumSize) {
      return Status(ErrorCodes::kProtocolError, "OP_MSG is too short for its checksum");
    }
    end -= kChecksumSize;
    uint32_t want = static_cast<uint32_t>(ReadLE32(message.data() + end));
    if (Crc32c(message.data(), end) != want) {
      return Status(ErrorCodes::kChecksumMismatch, "OP_MSG checksum does not match contents");
    }
  }

  const char* base = message.data();
  size_t pos = kHeaderSize + 4;
  const char* body_ptr = nullptr;
  struct Sequence {
    std::string_view name;
    std::vector<const char*> docs;
  };
  std::vector<Sequence> sequences;

  while (pos < end) {
    uint8_t kind = static_cast<uint8_t>(base[pos++]);
    if (kind == 0) {
      if (body_ptr) return Status(40430, "Multiple body sections in message");
      size_t size = 0;
      BROOK_RETURN_IF_ERROR(CheckDocument(base + pos, end - pos, &size));
      body_ptr = base + pos;
      pos += size;
    } else if (kind == 1) {
      if (end - pos < 4) return Status(ErrorCodes::kProtocolError, "document sequence is truncated");
      int32_t seq_size = ReadLE32(base + pos);
      if (seq_size < 5 || static_cast<size_t>(seq_size) > end - pos) {
        return Status(ErrorCodes::kProtocolError,
                      "document sequence size " + std::to_string(seq_size) +
                          " overruns the message");
      }
      size_t seq_end = pos + static_cast<size_t>(seq_size);
      size_t p = pos + 4;
      const void* nul = std::memchr(base + p, '\0', seq_end - p);
      if (!nul) {
        return Status(ErrorCodes::kProtocolError, "document sequence identifier is unterminated");
      }
      std::string_view name(base + p, static_cast<const char*>(nul) - (base + p));
      for (const auto& s : sequences) {
        if (s.name == name) return Status(40431, "Duplicate document sequence: " + std::string(name));
      }
      p += name.size() + 1;
      Sequence seq{name, {}};
      while (p < seq_end) {
        size_t size = 0;
        BROOK_RETURN_IF_ERROR(CheckDocument(base + p, seq_end - p, &size));
        seq.docs.push_back(base + p);
        p += size;
      }
      sequences.push_back(std::move(seq));
      pos = seq_end;
    } else {
      return Status(40432, "Unknown section kind " + std::to_string(kind));
    }
  }
  if (!body_ptr) return Status(40587, "OP_MSG messages must have a body");

  bson::View body(body_ptr);
  if (sequences.empty()) {
    msg.body = bson::Doc::CopyOf(body);
    return msg;
  }
  for (const auto& s : sequences) {
    if (body.HasField(s.name)) {
      return Status(40433, "Duplicate field between body and document sequence " +
                               std::string(s.name));
    }
  }
  size_t total = body.size();
  for (const auto& s : sequences) {
    for (const char* d : s.docs) total += static_cast<size_t>(ReadLE32(d)) + 16;
  }
  bson::Builder b(total + 64);
  b.AppendAll(body);
  std::string scratch;
  for (const auto& s : sequences) {
    b.OpenArray(s.name);
    for (size_t i = 0; i < s.docs.size(); ++i) {
      b.AppendDocument(bson::ArrayKey(i, &scratch), bson::View(s.docs[i]));
    }
    b.Close();
  }
  msg.body = b.Done();
  return msg;
}

std::string BuildOpMsg(int32_t request_id, int32_t response_to, uint32_t flags, bson::View body) {
  std::string frame;
  frame.reserve(kHeaderSize + 5 + body.size() + kChecksumSize);
  frame.append(kHeaderSize, '\0');
  AppendLE32(&frame, static_cast<int32_t>(flags));
  frame.push_back('\0');
  frame.append(body.bytes());
  return FinishFrame(std::move(frame), request_id, response_to, OpCode::kMsg,
                     flags & kChecksumPresent);
}

std::string BuildOpMsgWithSequence(int32_t request_id, int32_t response_to, uint32_t flags,
                                   bson::View body, std::string_view identifier,
                                   const std::vector<bson::View>& documents) {
  std::string frame;
  frame.append(kHeaderSize, '\0');
  AppendLE32(&frame, static_cast<int32_t>(flags));
  frame.push_back('\0');
  frame.append(body.bytes());
  frame.push_back('\1');
  size_t size_at = frame.size();
  AppendLE32(&frame, 0);
  frame.append(identifier);
  frame.push_back('\0');
  for (const auto& d : documents) frame.append(d.bytes());
  WriteLE32(frame.data() + size_at, static_cast<int32_t>(frame.size() - size_at));
  return FinishFrame(std::move(frame), request_id, response_to, OpCode::kMsg,
                     flags & kChecksumPresent);
}

StatusWith<OpQuery> ParseOpQuery(std::string_view message) {
  const char* base = message.data();
  size_t end = message.size();
  size_t pos = kHeaderSize;
  if (end < pos || ReadLE32(base) != static_cast<int32_t>(end)) {
    return Status(ErrorCodes::kProtocolError, "OP_QUERY length does not match its header");
  }
  if (end - pos < 4) return Status(ErrorCodes::kProtocolError, "OP_QUERY is truncated");
  OpQuery q;
  q.flags = ReadLE32(base + pos);
  pos += 4;
  const void* nul = std::memchr(base + pos, '\0', end - pos);
  if (!nul) return Status(ErrorCodes::kProtocolError, "OP_QUERY collection name is unterminated");
  q.full_collection_name.assign(base + pos, static_cast<const char*>(nul) - (base + pos));
  pos += q.full_collection_name.size() + 1;
  if (end - pos < 8) return Status(ErrorCodes::kProtocolError, "OP_QUERY is truncated");
  q.number_to_skip = ReadLE32(base + pos);
  q.number_to_return = ReadLE32(base + pos + 4);
  pos += 8;
  size_t size = 0;
  BROOK_RETURN_IF_ERROR(CheckDocument(base + pos, end - pos, &size));
  q.query = bson::Doc(std::string(base + pos, size));
  pos += size;
  // An optional returnFieldsSelector may follow; the handshake ignores it but it must be
  // well-formed if present.
  if (pos < end) {
    BROOK_RETURN_IF_ERROR(CheckDocument(base + pos, end - pos, &size));
    pos += size;
  }
  if (pos != end) return Status(ErrorCodes::kProtocolError, "trailing bytes after OP_QUERY");
  return q;
}

std::string BuildOpQuery(int32_t request_id, std::string_view full_collection_name,
                         bson::View query) {
  std::string frame;
  frame.append(kHeaderSize, '\0');
  AppendLE32(&frame, 0);
  frame.append(full_collection_name);
  frame.push_back('\0');
  AppendLE32(&frame, 0);
  AppendLE32(&frame, -1);
  frame.append(query.bytes());
  return FinishFrame(std::move(frame), request_id, 0, OpCode::kQuery, false);
}

std::string BuildOpReply(int32_t request_id, int32_t response_to, bson::View doc,
                         int32_t response_flags) {
  std::string frame;
  frame.reserve(kHeaderSize + 20 + doc.size());
  frame.append(kHeaderSize, '\0');
  AppendLE32(&frame, response_flags);
  frame.append(8, '\0');  // cursorID
  AppendLE32(&frame, 0);  // startingFrom
  AppendLE32(&frame, 1);  // numberReturned
  frame.append(doc.bytes());
  return FinishFrame(std::move(frame), request_id, response_to, OpCode::kReply, false);
}

StatusWith<bson::Doc> ParseOpReply(std::string_view message) {
  constexpr size_t kFixed = kHeaderSize + 20;
  if (message.size() < kFixed) return Status(ErrorCodes::kProtocolError, "OP_REPLY is truncated");
  if (ReadLE32(message.data() + 12) != static_cast<int32_t>(OpCode::kReply)) {
    return Status(ErrorCodes::kProtocolError, "not an OP_REPLY");
  }
  size_t size = 0;
  BROOK_RETURN_IF_ERROR(CheckDocument(message.data() + kFixed, message.size() - kFixed, &size));
  return bson::Doc(std::string(message.data() + kFixed, size));
}

}  // namespace brook::wire
