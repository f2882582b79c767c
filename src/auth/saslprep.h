#pragma once
// SASLprep (RFC 4013): the stringprep profile SCRAM-SHA-256 applies to passwords.
//
// Owns: the RFC 3454 tables the profile needs (B.1 mapped to nothing, C.1.2 non-ASCII
// spaces mapped to SPACE, the C.1.2-C.9 prohibited sets, the D.1/D.2 bidi rules) and
// NFKC normalisation.
// The tables come from Unicode 3.2, the version RFC 3454 fixes, generated into
// saslprep_tables.inc by scripts/gen_saslprep_tables.py (Python keeps that version as
// unicodedata.ucd_3_2_0 beside its stringprep module); NFKC is the full algorithm:
// compatibility decomposition (Hangul arithmetically), canonical ordering, canonical
// composition with blocking. Not applied: the A.1 unassigned-code-point check (RFC 4013
// allows unassigned code points in "queries", and MongoDB's drivers prepare passwords
// that way).
// U+200B is in both B.1 and C.1.2; like RFC 4013's text and the Node driver's saslprep,
// it maps to SPACE (pymongo removes it). Checked against Python's ucd_3_2_0 NFKC with
// 10,000 random strings of assigned code points: identical apart from that one choice.
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
