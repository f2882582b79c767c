// TLS through the official C driver (libmongoc, OpenSSL build) against brookd
// --tlsMode requireTLS with a CA file: the driver connects with tls=true and a client
// certificate; a plain client is told TLS is required; a client without a certificate
// is refused. The certificates are made at test time with the openssl CLI.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "brookd_process.h"
#include "test_bson.h"

namespace brook::testing {
namespace {

// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, each
// leaf as one PEM file holding certificate then key.
class TestCertificates {
 public:
  TestCertificates() {
    char tmpl[] = "/tmp/brook-c-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    Run("openssl req -x509 " + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=BrookCTestCA"
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    Leaf("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", key);
    Leaf("client", "/CN=c-driver-client", "extendedKeyUsage=clientAuth\n", key);
  }
  ~TestCertificates() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name + ".pem"; }

 private:
  void Run(const std::string& cmd) {
    std::string full = "cd " + dir_ + " && " + cmd + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << full;
  }
  void Leaf(const std::string& name, const std::string& subject, const std::string& ext, const std::string& key) {
    std::ofstream(dir_ + "/" + name + ".ext") << ext;
    Run("openssl req " + key + " -keyout " + name + ".key -out " + name + ".csr -subj " + subject);
    Run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
        ".crt -days 2 -extfile " + name + ".ext");
    std::ofstream pem(dir_ + "/" + name + ".pem");
    pem << std::ifstream(dir_ + "/" + name + ".crt").rdbuf() << std::ifstream(dir_ + "/" + name + ".key").rdbuf();
  }

  std::string dir_;
};

class TlsCTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mongoc_init();
    certs_ = new TestCertificates();
    BrookdProcess::Options options;
    options.extra_args = {"--tlsMode", "requireTLS", "--tlsCertificateKeyFile", certs_->Path("server"),
                          "--tlsCAFile", certs_->Path("ca")};
    options.uri_options = "&tls=true&tlsCAFile=" + certs_->Path("ca") +
                          "&tlsCertificateKeyFile=" + certs_->Path("client");
    server_ = new BrookdProcess(options);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete certs_;
    mongoc_cleanup();
  }

  // ping through a client for `uri`; the error message when it fails.
  static bool Ping(const std::string& uri, std::string* error_message) {
    mongoc_client_t* client = mongoc_client_new((uri + "&serverSelectionTimeoutMS=1500").c_str());
    if (!client) {
      *error_message = "invalid uri " + uri;
      return false;
    }
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    BsonPtr ping = J(R"({"ping": 1})");
    bson_error_t error;
    bool ok = mongoc_client_command_simple(client, "admin", ping.get(), nullptr, nullptr, &error);
    if (!ok) *error_message = error.message;
    mongoc_client_destroy(client);
    return ok;
  }
  static std::string PlainUri() { return "mongodb://127.0.0.1:" + std::to_string(server_->port()) + "/?directConnection=true"; }

  static TestCertificates* certs_;
  static BrookdProcess* server_;
};

TestCertificates* TlsCTest::certs_ = nullptr;
BrookdProcess* TlsCTest::server_ = nullptr;

TEST_F(TlsCTest, CrudOverTlsWithAClientCertificate) {
  mongoc_client_t* client = mongoc_client_new(server_->uri().c_str());
  ASSERT_NE(client, nullptr);
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "c_tls_test", "docs");
  bson_error_t error;
  ASSERT_TRUE(mongoc_collection_insert_one(coll, J(R"({"_id": 1, "over": "tls"})").get(), nullptr, nullptr, &error))
      << error.message;
  BsonPtr filter = J(R"({"_id": 1})");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, filter.get(), nullptr, nullptr);
  const bson_t* doc = nullptr;
  ASSERT_TRUE(mongoc_cursor_next(cursor, &doc));
  EXPECT_EQ(ToJson(doc), R"({ "_id" : 1, "over" : "tls" })");
  mongoc_cursor_destroy(cursor);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
}

TEST_F(TlsCTest, PlainClientIsToldTlsIsRequired) {
  std::string message;
  EXPECT_FALSE(Ping(PlainUri(), &message));
  EXPECT_NE(message.find("requires TLS"), std::string::npos) << message;
}

TEST_F(TlsCTest, ClientWithoutCertificateIsRefused) {
  std::string message;
  EXPECT_FALSE(Ping(PlainUri() + "&tls=true&tlsCAFile=" + certs_->Path("ca"), &message));
  // The server still serves clients that present one.
  EXPECT_TRUE(Ping(server_->uri(), &message)) << message;
}

}  // namespace
}  // namespace brook::testing
