#include "auth/saslprep.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

namespace brook::auth {
namespace {

struct Range {
  char32_t lo, hi;
};
struct Decomposition {
  char32_t cp;
  uint16_t offset;  // into kDecompPool
  uint8_t length;
};
struct CombiningClass {
  char32_t lo, hi;
  uint8_t ccc;
};
struct CompositionPair {
  char32_t first, second, composed;
};

#include "auth/saslprep_tables.inc"

template <size_t N>
bool In(char32_t c, const Range (&r)[N]) {
  auto it = std::upper_bound(std::begin(r), std::end(r), c, [](char32_t v, const Range& x) { return v < x.lo; });
  return it != std::begin(r) && c <= std::prev(it)->hi;
}

uint8_t CombiningClassOf(char32_t c) {
  auto it = std::upper_bound(std::begin(kCombiningClasses), std::end(kCombiningClasses), c,
                             [](char32_t v, const CombiningClass& x) { return v < x.lo; });
  if (it == std::begin(kCombiningClasses)) return 0;
  --it;
  return c <= it->hi ? it->ccc : 0;
}

// Hangul syllables decompose and compose arithmetically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

Status Bad(std::string what) { return Status(ErrorCodes::kBadValue, "SASLprep: " + std::move(what)); }

// Strict UTF-8 decoding: no overlongs, no surrogates, nothing above U+10FFFF.
bool DecodeUtf8(std::string_view s, std::vector<char32_t>* out) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t b = uint8_t(s[i]);
    char32_t c;
    int extra;
    if (b < 0x80) {
      c = b;
      extra = 0;
    } else if ((b & 0xE0) == 0xC0) {
      c = b & 0x1F;
      extra = 1;
    } else if ((b & 0xF0) == 0xE0) {
      c = b & 0x0F;
      extra = 2;
    } else if ((b & 0xF8) == 0xF0) {
      c = b & 0x07;
      extra = 3;
    } else {
      return false;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size()) return false;
      uint8_t cb = uint8_t(s[i + k]);
      if ((cb & 0xC0) != 0x80) return false;
      c = (c << 6) | (cb & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (c < kMin[extra] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    out->push_back(c);
    i += extra + 1;
  }
  return true;
}

void EncodeUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(char(c));
  } else if (c < 0x800) {
    out->push_back(char(0xC0 | (c >> 6)));
    out->push_back(char(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(char(0xE0 | (c >> 12)));
    out->push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(char(0x80 | (c & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (c >> 18)));
    out->push_back(char(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(char(0x80 | (c & 0x3F)));
  }
}

void Decompose(char32_t c, std::vector<char32_t>* out) {
  if (c >= kSBase && c < kSBase + kSCount) {
    int s_index = static_cast<int>(c - kSBase);
    out->push_back(kLBase + s_index / kNCount);
    out->push_back(kVBase + (s_index % kNCount) / kTCount);
    if (s_index % kTCount) out->push_back(kTBase + s_index % kTCount);
    return;
  }
  auto it = std::lower_bound(std::begin(kDecompositions), std::end(kDecompositions), c,
                             [](const Decomposition& d, char32_t v) { return d.cp < v; });
  if (it != std::end(kDecompositions) && it->cp == c) {
    out->insert(out->end(), kDecompPool + it->offset, kDecompPool + it->offset + it->length);
    return;
  }
  out->push_back(c);
}

std::optional<char32_t> Compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  auto it = std::lower_bound(std::begin(kCompositions), std::end(kCompositions), std::make_pair(first, second),
                             [](const CompositionPair& p, const std::pair<char32_t, char32_t>& v) {
                               return p.first != v.first ? p.first < v.first : p.second < v.second;
                             });
  if (it != std::end(kCompositions) && it->first == first && it->second == second) return it->composed;
  return std::nullopt;
}

// NFKC: full compatibility decomposition, canonical ordering of combining marks, then
// canonical composition (a mark composes with the last starter unless blocked).
std::vector<char32_t> Nfkc(const std::vector<char32_t>& in) {
  std::vector<char32_t> d;
  for (char32_t c : in) Decompose(c, &d);
  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (CombiningClassOf(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && CombiningClassOf(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + i, d.begin() + j,
                     [](char32_t a, char32_t b) { return CombiningClassOf(a) < CombiningClassOf(b); });
    i = j;
  }
  std::vector<char32_t> out;
  size_t starter = SIZE_MAX;  // index in `out` of the last starter
  int last_ccc = -1;          // class of the last character appended after it
  for (char32_t c : d) {
    int ccc = CombiningClassOf(c);
    if (starter != SIZE_MAX) {
      bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= ccc);
      if (!blocked) {
        if (auto composed = Compose(out[starter], c)) {
          out[starter] = *composed;
          continue;
        }
      }
    }
    if (ccc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = ccc;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

StatusWith<std::string> SaslPrep(std::string_view utf8) {
  bool ascii = std::all_of(utf8.begin(), utf8.end(), [](char ch) { return uint8_t(ch) < 0x80; });
  if (ascii) {
    for (char ch : utf8) {
      if (uint8_t(ch) < 0x20 || ch == 0x7F) return Bad("prohibited character");
    }
    return std::string(utf8);
  }
  std::vector<char32_t> cps;
  if (!DecodeUtf8(utf8, &cps)) return Bad("invalid UTF-8");
  std::vector<char32_t> mapped;
  for (char32_t c : cps) {
    if (In(c, kNonAsciiSpace)) {
      mapped.push_back(U' ');
    } else if (!In(c, kMappedToNothing)) {
      mapped.push_back(c);
    }
  }
  std::vector<char32_t> norm = Nfkc(mapped);
  bool has_randal = false, has_l = false;
  for (char32_t c : norm) {
    if (In(c, kProhibited) || In(c, kNonAsciiSpace)) return Bad("prohibited character");
    has_randal |= In(c, kRandAL);
    has_l |= In(c, kLCat);
  }
  if (has_randal) {
    if (has_l) return Bad("string mixes left-to-right and right-to-left characters");
    if (!In(norm.front(), kRandAL) || !In(norm.back(), kRandAL)) {
      return Bad("a right-to-left string must start and end with a right-to-left character");
    }
  }
  std::string out;
  for (char32_t c : norm) EncodeUtf8(c, &out);
  return out;
}

}  // namespace brook::auth
