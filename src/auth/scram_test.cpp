// The worked SCRAM conversations of the driver auth spec (shared/spec/source/auth/auth.md),
// replayed against the server side with the spec's salt and server nonce.
#include <gtest/gtest.h>

#include <random>

#include "auth/crypto.h"
#include "auth/saslprep.h"
#include "auth/scram.h"

namespace brook::auth {
namespace {

TEST(Crypto, Base64RoundTripAndRejects) {
  EXPECT_EQ(Base64Encode("n,,"), "biws");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_FALSE(Base64Decode("YQ="));
  EXPECT_FALSE(Base64Decode("Y!=="));
  EXPECT_FALSE(Base64Decode("YQ==YQ=="));
}

TEST(Crypto, MongoPasswordDigest) {
  // md5("user:mongo:pencil")
  EXPECT_EQ(MongoPasswordDigest("user", "pencil"), "1c33006ec1ffd90f9cadcbcc0e118200");
}

struct Conversation {
  HashAlg alg;
  std::string password;
  std::string client_first, server_first, client_final, server_final;
  std::string salt_b64, nonce_suffix;
  int iterations;
};

void Replay(const Conversation& c) {
  auto pwd = ScramPassword(c.alg, "user", c.password);
  ASSERT_TRUE(pwd.ok());
  ScramCredential cred = MakeCredential(c.alg, pwd.value(), c.iterations, *Base64Decode(c.salt_b64));
  ScramServer server(c.alg);
  auto user = server.ReadClientFirst(c.client_first);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user.value(), "user");
  EXPECT_EQ(server.ServerFirst(cred, c.nonce_suffix), c.server_first);
  auto fin = server.ReadClientFinal(c.client_final);
  ASSERT_TRUE(fin.ok()) << fin.status().ToString();
  EXPECT_EQ(fin.value(), c.server_final);
}

const Conversation kSha1{HashAlg::kSha1, "pencil", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                         "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
                         "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
                         "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=", "rQ9ZY3MntBeuP3E1TDVC4w==",
                         "Ho+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE", 10000};
const Conversation kSha256{HashAlg::kSha256, "pencil", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                           "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                           "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                           "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "W22ZaJ0SNY7soEsUEjb6gQ==",
                           "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", 4096};

TEST(Scram, SpecConversationSha1) { Replay(kSha1); }
TEST(Scram, SpecConversationSha256) { Replay(kSha256); }

TEST(Scram, WrongPasswordFailsWith18) {
  for (const auto* c : {&kSha1, &kSha256}) {
    Conversation wrong = *c;
    wrong.password = "pencil2";
    auto pwd = ScramPassword(wrong.alg, "user", wrong.password);
    ScramCredential cred = MakeCredential(wrong.alg, pwd.value(), wrong.iterations, *Base64Decode(wrong.salt_b64));
    ScramServer server(wrong.alg);
    ASSERT_TRUE(server.ReadClientFirst(wrong.client_first).ok());
    server.ServerFirst(cred, wrong.nonce_suffix);
    auto fin = server.ReadClientFinal(wrong.client_final);
    ASSERT_FALSE(fin.ok());
    EXPECT_EQ(fin.status().code(), 18);
    EXPECT_EQ(fin.status().reason(), "Authentication failed.");
  }
}

TEST(Scram, RejectsTamperedMessages) {
  auto pwd = ScramPassword(HashAlg::kSha1, "user", "pencil");
  ScramCredential cred = MakeCredential(HashAlg::kSha1, pwd.value(), 10000, *Base64Decode(kSha1.salt_b64));
  {
    ScramServer s(HashAlg::kSha1);
    ASSERT_TRUE(s.ReadClientFirst(kSha1.client_first).ok());
    s.ServerFirst(cred, kSha1.nonce_suffix);
    // Another nonce than the one the server answered.
    std::string msg = kSha1.client_final;
    msg.replace(msg.find("Ho+V"), 4, "Xo+V");
    EXPECT_FALSE(s.ReadClientFinal(msg).ok());
  }
  ScramServer s(HashAlg::kSha1);
  EXPECT_FALSE(s.ReadClientFirst("p=tls-unique,,n=user,r=abc").ok());
  EXPECT_FALSE(s.ReadClientFirst("n,,n=,r=abc").ok());
  EXPECT_FALSE(s.ReadClientFirst("n,,r=abc").ok());
  EXPECT_FALSE(s.ReadClientFirst("garbage").ok());
  EXPECT_FALSE(s.ReadClientFirst("n,,n=u=XX,r=abc").ok());
  EXPECT_FALSE(s.ReadClientFinal("c=biws,r=x,p=AAAA").ok());  // before server-first
  auto escaped = s.ReadClientFirst("n,,n=a=2Cb=3Dc,r=abc");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped.value(), "a,b=c");
}

TEST(Scram, FakeCredentialIsStableAndNeverMatches) {
  auto a = FakeCredential(HashAlg::kSha256, "ghost", "secret", 15000);
  auto b = FakeCredential(HashAlg::kSha256, "ghost", "secret", 15000);
  EXPECT_EQ(a.salt, b.salt);
  EXPECT_EQ(a.iteration_count, 15000);
  EXPECT_EQ(Base64Decode(a.salt)->size(), 28u);
}

TEST(Scram, CredentialShape) {
  auto c = MakeCredential(HashAlg::kSha1, "x", 10000);
  EXPECT_EQ(Base64Decode(c.salt)->size(), 16u);
  EXPECT_EQ(Base64Decode(c.stored_key)->size(), 20u);
  auto d = MakeCredential(HashAlg::kSha256, "x", 15000);
  EXPECT_EQ(Base64Decode(d.salt)->size(), 28u);
  EXPECT_EQ(Base64Decode(d.server_key)->size(), 32u);
  EXPECT_NE(c.salt, MakeCredential(HashAlg::kSha1, "x", 10000).salt);
}

// Hostile messages: every parser must answer (usually an error), never read out of
// bounds; the sanitizer build turns any slip into a failure.
TEST(Scram, ArbitraryBytesNeverCrashTheParsers) {
  std::mt19937 rng(1234);
  const std::string alphabet = "nyp,=r2C3Dcsiv/+aAbB09\x80\xff\xc3";
  auto cred = MakeCredential(HashAlg::kSha256, "pw", 4096, "saltsaltsaltsaltsaltsaltsalt");
  for (int i = 0; i < 3000; ++i) {
    std::string msg;
    size_t len = rng() % 40;
    for (size_t k = 0; k < len; ++k) {
      msg.push_back(i % 2 ? char(rng() & 0xff) : alphabet[rng() % alphabet.size()]);
    }
    ScramServer server(HashAlg::kSha256);
    if (server.ReadClientFirst(msg).ok()) {
      server.ServerFirst(cred);
      EXPECT_FALSE(server.ReadClientFinal(msg).ok());
    }
    (void)Base64Decode(msg);
    (void)SaslPrep(msg);
  }
}

}  // namespace
}  // namespace brook::auth
