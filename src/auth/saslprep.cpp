#include "auth/saslprep.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace brook::auth {
namespace {

struct Range {
  char32_t lo, hi;
};

bool InRanges(char32_t c, const Range* ranges, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (c >= ranges[i].lo && c <= ranges[i].hi) return true;
  }
  return false;
}
template <size_t N>
bool In(char32_t c, const Range (&r)[N]) {
  return InRanges(c, r, N);
}

// RFC 3454 B.1: commonly mapped to nothing.
constexpr Range kMappedToNothing[] = {{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x1806, 0x1806},
                                      {0x180B, 0x180D}, {0x200B, 0x200D}, {0x2060, 0x2060},
                                      {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}};
// C.1.2: non-ASCII space characters (mapped to SPACE by RFC 4013 2.1).
constexpr Range kNonAsciiSpace[] = {{0x00A0, 0x00A0}, {0x1680, 0x1680}, {0x2000, 0x200B},
                                    {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};
// C.2.1, C.2.2, C.3 - C.9: prohibited output.
constexpr Range kProhibited[] = {
    {0x0000, 0x001F}, {0x007F, 0x009F}, {0x0340, 0x0341}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
    {0x180E, 0x180E}, {0x200C, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2063}, {0x206A, 0x206F},
    {0x2FF0, 0x2FFB}, {0xD800, 0xF8FF}, {0xFDD0, 0xFDEF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFF},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF}};
// D.1: characters with bidi property R or AL.
constexpr Range kRandAL[] = {
    {0x05BE, 0x05BE}, {0x05C0, 0x05C0}, {0x05C3, 0x05C3}, {0x05D0, 0x05EA}, {0x05F0, 0x05F4},
    {0x061B, 0x061B}, {0x061F, 0x061F}, {0x0621, 0x063A}, {0x0640, 0x064A}, {0x066D, 0x066F},
    {0x0671, 0x06D5}, {0x06DD, 0x06DD}, {0x06E5, 0x06E6}, {0x06FA, 0x06FE}, {0x0700, 0x070D},
    {0x0710, 0x0710}, {0x0712, 0x072C}, {0x0780, 0x07A5}, {0x07B1, 0x07B1}, {0x200F, 0x200F},
    {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E},
    {0xFB40, 0xFB41}, {0xFB43, 0xFB44}, {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F},
    {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFC}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}};
// D.2 (approximate, see the header): letters with bidi property L.
constexpr Range kLCat[] = {
    {'A', 'Z'},       {'a', 'z'},       {0x00AA, 0x00AA}, {0x00B5, 0x00B5}, {0x00BA, 0x00BA},
    {0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x02B8}, {0x0386, 0x03FF}, {0x0400, 0x0482},
    {0x048A, 0x052F}, {0x0531, 0x0587}, {0x1E00, 0x1FFF}, {0x3041, 0x30FF}, {0x3400, 0x9FFF},
    {0xAC00, 0xD7A3}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}};

// Compatibility and canonical decompositions (already fully decomposed).
struct Decomp {
  char32_t from;
  const char32_t* to;
};
constexpr Decomp kDecomp[] = {
    {0x00A8, U" \u0308"}, {0x00AA, U"a"}, {0x00AF, U" \u0304"}, {0x00B2, U"2"}, {0x00B3, U"3"},
    {0x00B4, U" \u0301"}, {0x00B5, U"\u03BC"}, {0x00B8, U" \u0327"}, {0x00B9, U"1"},
    {0x00BA, U"o"}, {0x00BC, U"1\u20444"}, {0x00BD, U"1\u20442"}, {0x00BE, U"3\u20444"},
    {0x2070, U"0"}, {0x2071, U"i"}, {0x2074, U"4"}, {0x2075, U"5"}, {0x2076, U"6"},
    {0x2077, U"7"}, {0x2078, U"8"}, {0x2079, U"9"}, {0x207F, U"n"}, {0x2080, U"0"},
    {0x2081, U"1"}, {0x2082, U"2"}, {0x2083, U"3"}, {0x2084, U"4"}, {0x2085, U"5"},
    {0x2086, U"6"}, {0x2087, U"7"}, {0x2088, U"8"}, {0x2089, U"9"}, {0x2122, U"TM"},
    {0x2126, U"\u03A9"}, {0x212A, U"K"}, {0x212B, U"A\u030A"},
    {0x2160, U"I"}, {0x2161, U"II"}, {0x2162, U"III"}, {0x2163, U"IV"}, {0x2164, U"V"},
    {0x2165, U"VI"}, {0x2166, U"VII"}, {0x2167, U"VIII"}, {0x2168, U"IX"}, {0x2169, U"X"},
    {0x216A, U"XI"}, {0x216B, U"XII"}, {0x216C, U"L"}, {0x216D, U"C"}, {0x216E, U"D"},
    {0x216F, U"M"}, {0x2170, U"i"}, {0x2171, U"ii"}, {0x2172, U"iii"}, {0x2173, U"iv"},
    {0x2174, U"v"}, {0x2175, U"vi"}, {0x2176, U"vii"}, {0x2177, U"viii"}, {0x2178, U"ix"},
    {0x2179, U"x"}, {0x217A, U"xi"}, {0x217B, U"xii"}, {0x217C, U"l"}, {0x217D, U"c"},
    {0x217E, U"d"}, {0x217F, U"m"}, {0xFB00, U"ff"}, {0xFB01, U"fi"}, {0xFB02, U"fl"},
    {0xFB03, U"ffi"}, {0xFB04, U"ffl"}, {0xFB05, U"st"}, {0xFB06, U"st"}};

// Latin-1 precomposed letters as base + combining mark, for canonical composition (and
// decomposition of the same letters, so that e.g. "e\u0301" and "\u00E9" agree).
struct Composition {
  char32_t base, mark, composed;
};
constexpr Composition kCompose[] = {
    {'A', 0x300, 0xC0}, {'A', 0x301, 0xC1}, {'A', 0x302, 0xC2}, {'A', 0x303, 0xC3},
    {'A', 0x308, 0xC4}, {'A', 0x30A, 0xC5}, {'C', 0x327, 0xC7}, {'E', 0x300, 0xC8},
    {'E', 0x301, 0xC9}, {'E', 0x302, 0xCA}, {'E', 0x308, 0xCB}, {'I', 0x300, 0xCC},
    {'I', 0x301, 0xCD}, {'I', 0x302, 0xCE}, {'I', 0x308, 0xCF}, {'N', 0x303, 0xD1},
    {'O', 0x300, 0xD2}, {'O', 0x301, 0xD3}, {'O', 0x302, 0xD4}, {'O', 0x303, 0xD5},
    {'O', 0x308, 0xD6}, {'U', 0x300, 0xD9}, {'U', 0x301, 0xDA}, {'U', 0x302, 0xDB},
    {'U', 0x308, 0xDC}, {'Y', 0x301, 0xDD}, {'a', 0x300, 0xE0}, {'a', 0x301, 0xE1},
    {'a', 0x302, 0xE2}, {'a', 0x303, 0xE3}, {'a', 0x308, 0xE4}, {'a', 0x30A, 0xE5},
    {'c', 0x327, 0xE7}, {'e', 0x300, 0xE8}, {'e', 0x301, 0xE9}, {'e', 0x302, 0xEA},
    {'e', 0x308, 0xEB}, {'i', 0x300, 0xEC}, {'i', 0x301, 0xED}, {'i', 0x302, 0xEE},
    {'i', 0x308, 0xEF}, {'n', 0x303, 0xF1}, {'o', 0x300, 0xF2}, {'o', 0x301, 0xF3},
    {'o', 0x302, 0xF4}, {'o', 0x303, 0xF5}, {'o', 0x308, 0xF6}, {'u', 0x300, 0xF9},
    {'u', 0x301, 0xFA}, {'u', 0x302, 0xFB}, {'u', 0x308, 0xFC}, {'y', 0x301, 0xFD},
    {'y', 0x308, 0xFF}};

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
  if (c >= 0xFF01 && c <= 0xFF5E) {  // fullwidth ASCII
    out->push_back(c - 0xFEE0);
    return;
  }
  for (const auto& d : kDecomp) {
    if (d.from == c) {
      for (const char32_t* p = d.to; *p; ++p) Decompose(*p, out);
      return;
    }
  }
  for (const auto& k : kCompose) {
    if (k.composed == c) {
      out->push_back(k.base);
      out->push_back(k.mark);
      return;
    }
  }
  out->push_back(c);
}

std::vector<char32_t> Nfkc(const std::vector<char32_t>& in) {
  std::vector<char32_t> decomposed;
  for (char32_t c : in) Decompose(c, &decomposed);
  std::vector<char32_t> out;
  for (char32_t c : decomposed) {
    if (!out.empty()) {
      bool composed = false;
      for (const auto& k : kCompose) {
        if (k.base == out.back() && k.mark == c) {
          out.back() = k.composed;
          composed = true;
          break;
        }
      }
      if (composed) continue;
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
