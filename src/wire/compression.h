#pragma once
// OP_COMPRESSED (2012): wrapping and unwrapping whole messages.
//
// Owns: the compressor ids and names, and the checked inflation of client frames.
// On-wire facts: OP_COMPRESSED = header(opCode 2012), int32 originalOpcode, int32
// uncompressedSize (the original message minus its 16-byte header), uint8 compressorId,
// compressed bytes. Ids: noop 0, snappy 1, zlib 2, zstd 3 (names as hello's
// `compression` list spells them). Inflation never allocates more than the declared
// size, which must fit kMaxMessageSizeBytes, and the result must match it exactly.
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace brook::wire {

enum class Compressor : uint8_t {
  kNoop = 0,
  kSnappy = 1,
  kZlib = 2,
  kZstd = 3,
};

// "snappy", "zlib", "zstd" (and "noop"); nullopt for anything else.
std::optional<Compressor> CompressorFromName(std::string_view name);
std::string_view CompressorName(Compressor c);
// Compressors a client may negotiate in hello, in Brook's order of preference.
inline constexpr std::string_view kNegotiableCompressors[] = {"snappy", "zstd", "zlib"};

// Unwraps an OP_COMPRESSED frame into the original frame (header rebuilt with the
// original opcode and the same requestID/responseTo). ProtocolError on any
// inconsistency: the connection should be closed, as the stream cannot be trusted.
StatusWith<std::string> DecompressMessage(std::string_view frame);

// Wraps a whole frame (header included) into OP_COMPRESSED with compressor `c`.
StatusWith<std::string> CompressMessage(std::string_view frame, Compressor c);

}  // namespace brook::wire
