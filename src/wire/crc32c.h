#pragma once
// CRC-32C (Castagnoli), as OP_MSG's optional trailing checksum uses it.
//
// Owns: the checksum function only. Table-driven, slice-by-8 (eight 256-entry tables
// built once, at first use). On-wire fact: reflected polynomial 0x82F63B78, initial
// value and final xor 0xFFFFFFFF; the OP_MSG checksum covers every byte of the message
// before the checksum itself, header included, and is stored little-endian.
// Thread-safety: pure functions; the tables are initialised thread-safely.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace brook::wire {

// CRC-32C of [data, data+len).
uint32_t Crc32c(const void* data, size_t len);
inline uint32_t Crc32c(std::string_view bytes) { return Crc32c(bytes.data(), bytes.size()); }

// Continues a CRC over more bytes: Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t len);

}  // namespace brook::wire
