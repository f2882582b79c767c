#include "wire/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "wire/message.h"

namespace brook::wire {
namespace {

constexpr size_t kCompressedPrefix = kHeaderSize + 9;  // + originalOpcode, size, id

Status Corrupt(std::string_view what) {
  return Status(ErrorCodes::kProtocolError, "invalid OP_COMPRESSED message: " + std::string(what));
}

}  // namespace

std::optional<Compressor> CompressorFromName(std::string_view name) {
  if (name == "noop") return Compressor::kNoop;
  if (name == "snappy") return Compressor::kSnappy;
  if (name == "zlib") return Compressor::kZlib;
  if (name == "zstd") return Compressor::kZstd;
  return std::nullopt;
}

std::string_view CompressorName(Compressor c) {
  switch (c) {
    case Compressor::kNoop: return "noop";
    case Compressor::kSnappy: return "snappy";
    case Compressor::kZlib: return "zlib";
    case Compressor::kZstd: return "zstd";
  }
  return "unknown";
}

StatusWith<std::string> DecompressMessage(std::string_view frame) {
  if (frame.size() < kCompressedPrefix) return Corrupt("truncated");
  int32_t original_op = ReadLE32(frame.data() + kHeaderSize);
  int32_t size = ReadLE32(frame.data() + kHeaderSize + 4);
  uint8_t id = static_cast<uint8_t>(frame[kHeaderSize + 8]);
  if (original_op == static_cast<int32_t>(OpCode::kCompressed)) return Corrupt("nested compression");
  if (size <= 0 || size > kMaxMessageSizeBytes - kHeaderSize) {
    return Corrupt("uncompressed size " + std::to_string(size) + " out of range");
  }
  std::string_view input = frame.substr(kCompressedPrefix);
  std::string out(kHeaderSize + static_cast<size_t>(size), '\0');
  char* dst = out.data() + kHeaderSize;
  const size_t want = static_cast<size_t>(size);

  switch (static_cast<Compressor>(id)) {
    case Compressor::kNoop:
      if (input.size() != want) return Corrupt("size mismatch");
      std::memcpy(dst, input.data(), want);
      break;
    case Compressor::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(input.data(), input.size(), &n) || n != want) {
        return Corrupt("snappy size mismatch");
      }
      if (!snappy::RawUncompress(input.data(), input.size(), dst)) return Corrupt("bad snappy data");
      break;
    }
    case Compressor::kZlib: {
      uLongf n = want;
      int rc = uncompress(reinterpret_cast<Bytef*>(dst), &n,
                          reinterpret_cast<const Bytef*>(input.data()), input.size());
      if (rc != Z_OK || n != want) return Corrupt("bad zlib data");
      break;
    }
    case Compressor::kZstd: {
      size_t n = ZSTD_decompress(dst, want, input.data(), input.size());
      if (ZSTD_isError(n) || n != want) return Corrupt("bad zstd data");
      break;
    }
    default:
      return Corrupt("unknown compressor id " + std::to_string(id));
  }
  MessageHeader h{static_cast<int32_t>(out.size()), ReadLE32(frame.data() + 4),
                  ReadLE32(frame.data() + 8), original_op};
  WriteHeader(h, out.data());
  return out;
}

StatusWith<std::string> CompressMessage(std::string_view frame, Compressor c) {
  if (frame.size() < static_cast<size_t>(kHeaderSize)) return Corrupt("frame shorter than a header");
  std::string_view payload = frame.substr(kHeaderSize);
  std::string out(kCompressedPrefix, '\0');
  switch (c) {
    case Compressor::kNoop:
      out.append(payload);
      break;
    case Compressor::kSnappy: {
      std::string compressed;
      snappy::Compress(payload.data(), payload.size(), &compressed);
      out.append(compressed);
      break;
    }
    case Compressor::kZlib: {
      uLongf bound = compressBound(payload.size());
      out.resize(kCompressedPrefix + bound);
      int rc = compress2(reinterpret_cast<Bytef*>(out.data() + kCompressedPrefix), &bound,
                         reinterpret_cast<const Bytef*>(payload.data()), payload.size(),
                         Z_DEFAULT_COMPRESSION);
      if (rc != Z_OK) return Status(ErrorCodes::kInternalError, "zlib compression failed");
      out.resize(kCompressedPrefix + bound);
      break;
    }
    case Compressor::kZstd: {
      size_t bound = ZSTD_compressBound(payload.size());
      out.resize(kCompressedPrefix + bound);
      size_t n = ZSTD_compress(out.data() + kCompressedPrefix, bound, payload.data(),
                               payload.size(), 1);
      if (ZSTD_isError(n)) return Status(ErrorCodes::kInternalError, "zstd compression failed");
      out.resize(kCompressedPrefix + n);
      break;
    }
  }
  MessageHeader h{static_cast<int32_t>(out.size()), ReadLE32(frame.data() + 4),
                  ReadLE32(frame.data() + 8), static_cast<int32_t>(OpCode::kCompressed)};
  WriteHeader(h, out.data());
  WriteLE32(out.data() + kHeaderSize, ReadLE32(frame.data() + 12));
  WriteLE32(out.data() + kHeaderSize + 4, static_cast<int32_t>(payload.size()));
  out[kHeaderSize + 8] = static_cast<char>(c);
  return out;
}

}  // namespace brook::wire
