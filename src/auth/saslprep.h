#pragma once
// SASLprep (RFC 4013): the stringprep profile SCRAM-SHA-256 applies to passwords.
//
// Owns: the RFC 3454 tables the profile needs (B.1 mapped to nothing, C.1.2 non-ASCII
// spaces mapped to SPACE, the C.1.2-C.9 prohibited sets, the D.1/D.2 bidi rules) and
// NFKC normalisation.
// Approximations (no Unicode database is available as a Debian product dependency):
//  - NFKC covers what SCRAM passwords meet in practice and what the driver specs test:
//    Latin-1 compatibility characters (ª º ¹ ² ³ ¼ ½ ¾ µ and the spacing accents),
//    Roman numerals U+2160-217F, fullwidth ASCII U+FF01-FF5E, Latin ligatures
//    U+FB00-FB06, superscript/subscript digits, ™ Ω K Å signs, and canonical
//    composition of A-Z/a-z with grave, acute, circumflex, tilde, diaeresis, ring and
//    cedilla into the Latin-1 precomposed letters. Any other non-ASCII code point is
//    passed through unchanged (correct for text that is already NFKC, as most is).
//  - D.2 (LCat) is approximated by Latin, Greek, Cyrillic, Armenian, CJK, Kana and
//    Hangul letters; the A.1 unassigned-code-point check is not applied (MongoDB's
//    "query" mode allows them).
// All-ASCII input takes a fast path that only checks for control characters.
// Thread-safety: pure function.

#include <string>
#include <string_view>

#include "util/status.h"

namespace brook::auth {

// UTF-8 in, prepared UTF-8 out. BadValue for invalid UTF-8, prohibited code points or a
// bidi violation (the caller turns that into its own error; SCRAM auth hides it).
StatusWith<std::string> SaslPrep(std::string_view utf8);

}  // namespace brook::auth
