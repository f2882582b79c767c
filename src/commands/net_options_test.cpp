#include "commands/net_options.h"

#include <gtest/gtest.h>

#include "commands/server_options.h"

namespace brook::commands {
namespace {

TEST(NetOptions, TlsModeNamesRoundTrip) {
  for (auto name : {"disabled", "allowTLS", "preferTLS", "requireTLS"}) {
    auto mode = ParseTlsMode(name);
    ASSERT_TRUE(mode.ok()) << name;
    EXPECT_EQ(TlsModeName(mode.value()), name);
  }
  auto bad = ParseTlsMode("requireSSL");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().reason().find("requireTLS"), std::string::npos);
}

TEST(NetOptions, TlsNeedsACertificate) {
  TlsOptions tls;
  EXPECT_TRUE(ValidateTlsOptions(tls).ok());  // disabled needs nothing
  tls.mode = TlsMode::kRequireTls;
  Status st = ValidateTlsOptions(tls);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.reason().find("--tlsCertificateKeyFile"), std::string::npos);
  tls.certificate_key_file = "/some/server.pem";
  EXPECT_TRUE(ValidateTlsOptions(tls).ok());
}

TEST(NetOptions, DisabledProtocolNamesAreChecked) {
  TlsOptions tls;
  tls.mode = TlsMode::kAllowTls;
  tls.certificate_key_file = "x.pem";
  tls.disabled_protocols = "TLS1_0, TLS1_1";
  EXPECT_TRUE(ValidateTlsOptions(tls).ok());
  tls.disabled_protocols = "none";
  EXPECT_TRUE(ValidateTlsOptions(tls).ok());
  tls.disabled_protocols = "TLS1_0,SSL3";
  EXPECT_FALSE(ValidateTlsOptions(tls).ok());
}

TEST(NetOptions, LoopbackAddresses) {
  EXPECT_TRUE(AllLoopback("127.0.0.1"));
  EXPECT_TRUE(AllLoopback("127.1.2.3"));
  EXPECT_TRUE(AllLoopback("::1"));
  EXPECT_TRUE(AllLoopback("localhost"));
  EXPECT_TRUE(AllLoopback("127.0.0.1, ::1"));
  EXPECT_FALSE(AllLoopback("0.0.0.0"));
  EXPECT_FALSE(AllLoopback("::"));
  EXPECT_FALSE(AllLoopback("10.1.2.3"));
  EXPECT_FALSE(AllLoopback("127.0.0.1,192.168.1.5"));  // one reachable address is enough
  EXPECT_FALSE(AllLoopback("db.example.com"));         // a name may resolve to anything
  EXPECT_FALSE(AllLoopback(""));
}

TEST(NetOptions, SplitBindIp) {
  EXPECT_EQ(SplitBindIp("127.0.0.1"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(SplitBindIp(" 127.0.0.1 ,, ::1,"), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_TRUE(SplitBindIp("").empty());
}

TEST(NetOptions, NonLoopbackBindNeedsAuthOrInsecure) {
  EXPECT_TRUE(CheckBindSafety("127.0.0.1", false, false).ok());
  Status st = CheckBindSafety("0.0.0.0", false, false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.reason().find("--auth"), std::string::npos);
  EXPECT_NE(st.reason().find("--insecure"), std::string::npos);
  EXPECT_TRUE(CheckBindSafety("0.0.0.0", true, false).ok());
  EXPECT_TRUE(CheckBindSafety("0.0.0.0", false, true).ok());
}

TEST(NetOptions, LimitParametersHaveDefaultsAndFloors) {
  ServerParameters p;
  EXPECT_EQ(p.GetInt(kParamMaxOpenChangeStreams), kDefaultMaxOpenChangeStreams);
  EXPECT_EQ(p.GetInt(kParamMessageReceiveTimeoutMillis), 60000);
  EXPECT_EQ(p.GetInt(kParamClientCursorMonitorFrequencySecs), 4);
  EXPECT_EQ(p.GetInt(kParamCursorTimeoutMillis), 600000);
  EXPECT_FALSE(p.SetFromString(kParamMessageReceiveTimeoutMillis, "0").ok());
  EXPECT_FALSE(p.SetFromString(kParamClientCursorMonitorFrequencySecs, "0").ok());
  EXPECT_FALSE(p.SetFromString(kParamMaxOpenChangeStreams, "-1").ok());
  EXPECT_TRUE(p.SetFromString(kParamMaxOpenChangeStreams, "5").ok());
  EXPECT_EQ(p.GetInt(kParamMaxOpenChangeStreams), 5);
}

}  // namespace
}  // namespace brook::commands
