#pragma once
// Helpers shared by the fuzz targets: the same "bytes become a View only after Validate"
// gate the server uses, and a walk that reads every value through the typed accessors,
// so that a document Validate wrongly accepts shows up as an ASan report while reading.
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "bson/document.h"

namespace brook::fuzz {

// The bytes as a document when bson::Validate accepts them (copied, so the fuzzer's
// buffer bounds still catch reads past the declared length), else nullopt.
std::optional<bson::Doc> ValidDoc(const uint8_t* data, size_t size);

// Reads every element of `doc`, recursing into documents, arrays and code-with-scope.
// Returns a value depending on what was read so the compiler cannot drop the reads.
uint64_t Walk(bson::View doc);

}  // namespace brook::fuzz
