#include "wire/compression.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "bson/builder.h"
#include "wire/message.h"

namespace brook::wire {
namespace {

std::string SampleFrame() {
  bson::Builder b;
  b.AppendString("insert", "c");
  b.AppendString("$db", "test");
  b.AppendString("payload", std::string(5000, 'z'));
  return BuildOpMsg(42, 7, 0, b.Done());
}

TEST(Compression, Names) {
  EXPECT_EQ(CompressorFromName("zstd"), Compressor::kZstd);
  EXPECT_EQ(CompressorFromName("snappy"), Compressor::kSnappy);
  EXPECT_EQ(CompressorFromName("zlib"), Compressor::kZlib);
  EXPECT_EQ(CompressorFromName("noop"), Compressor::kNoop);
  EXPECT_FALSE(CompressorFromName("lz4").has_value());
  EXPECT_EQ(CompressorName(Compressor::kZlib), "zlib");
}

TEST(Compression, RoundTripEveryCompressor) {
  std::string frame = SampleFrame();
  for (auto c : {Compressor::kNoop, Compressor::kSnappy, Compressor::kZlib, Compressor::kZstd}) {
    auto packed = CompressMessage(frame, c);
    ASSERT_TRUE(packed.ok()) << CompressorName(c);
    auto h = ParseHeader(packed.value());
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->op_code, 2012);
    EXPECT_EQ(h->request_id, 42);
    EXPECT_EQ(h->response_to, 7);
    if (c != Compressor::kNoop) {
      EXPECT_LT(packed->size(), frame.size());
    }
    auto back = DecompressMessage(packed.value());
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back.value(), frame) << CompressorName(c);
    EXPECT_TRUE(ParseOpMsg(back.value()).ok());
  }
}

TEST(Compression, HostileFrames) {
  std::string frame = SampleFrame();
  for (auto c : {Compressor::kNoop, Compressor::kSnappy, Compressor::kZlib, Compressor::kZstd}) {
    std::string packed = CompressMessage(frame, c).value();
    // Declared size that lies (one more, one less).
    for (int delta : {-1, 1}) {
      std::string lie = packed;
      WriteLE32(lie.data() + kHeaderSize + 4, ReadLE32(lie.data() + kHeaderSize + 4) + delta);
      EXPECT_FALSE(DecompressMessage(lie).ok()) << CompressorName(c) << delta;
    }
    // Huge declared size is refused before allocating.
    std::string huge = packed;
    WriteLE32(huge.data() + kHeaderSize + 4, kMaxMessageSizeBytes);
    EXPECT_FALSE(DecompressMessage(huge).ok());
    // Truncated payloads.
    for (size_t n : {size_t{0}, size_t{10}, size_t{25}, packed.size() / 2, packed.size() - 1}) {
      EXPECT_FALSE(DecompressMessage(packed.substr(0, n)).ok()) << CompressorName(c) << " " << n;
    }
  }
  std::string packed = CompressMessage(frame, Compressor::kZstd).value();
  std::string bad_id = packed;
  bad_id[kHeaderSize + 8] = 9;
  EXPECT_FALSE(DecompressMessage(bad_id).ok());
  std::string nested = packed;
  WriteLE32(nested.data() + kHeaderSize, 2012);
  EXPECT_FALSE(DecompressMessage(nested).ok());
  std::string garbage = packed;
  for (size_t i = kHeaderSize + 9; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7);
  EXPECT_FALSE(DecompressMessage(garbage).ok());
}

}  // namespace
}  // namespace brook::wire

namespace brook::wire {
namespace {

TEST(Compression, MutatedFramesNeverCrash) {
  std::string frame = SampleFrame();
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (auto c : {Compressor::kNoop, Compressor::kSnappy, Compressor::kZlib, Compressor::kZstd}) {
    std::string packed = CompressMessage(frame, c).value();
    for (int iter = 0; iter < 2000; ++iter) {
      std::string f = packed;
      size_t pos = kHeaderSize + next() % (f.size() - kHeaderSize);
      f[pos] = static_cast<char>(next());
      if (next() % 4 == 0) f.resize(kHeaderSize + next() % (f.size() - kHeaderSize));
      std::unique_ptr<char[]> exact(new char[f.size()]);
      std::memcpy(exact.get(), f.data(), f.size());
      auto out = DecompressMessage(std::string_view(exact.get(), f.size()));
      if (out.ok()) {
        EXPECT_EQ(out.value().size(), static_cast<size_t>(ReadLE32(out.value().data())));
      }
    }
  }
}

}  // namespace
}  // namespace brook::wire
