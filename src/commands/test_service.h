#pragma once
// The service a command handler runs against, for handler-level tests: a real storage
// engine in a temporary directory, the catalog, cursor registry and session catalog,
// wired into one ServiceContext. Fixtures derive from ServiceFixture and add what their
// family needs (fail points, options, an auth manager) in their own SetUp.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bson/builder.h"
#include "bson/json.h"
#include "catalog/catalog.h"
#include "commands/cursor_registry.h"
#include "commands/handlers.h"
#include "commands/operation_context.h"
#include "commands/server_stats.h"
#include "commands/sessions.h"
#include "storage/engine.h"

namespace brook::commands::testsupport {

inline bson::Doc J(std::string_view json) {
  auto d = bson::FromJson(json);
  EXPECT_TRUE(d.ok()) << json << " " << d.status().ToString();
  return d.ok() ? std::move(d).value() : bson::Doc();
}

// A failed handler's status as a reply: {ok: 0, code, errmsg} plus its extra info.
inline bson::Doc ErrorDoc(const Status& st) {
  bson::Builder err;
  err.AppendDouble("ok", 0);
  err.AppendInt32("code", st.code());
  err.AppendString("errmsg", st.reason());
  if (!st.extra_info().empty()) err.AppendAll(bson::View(st.extra_info().data()));
  return err.Done();
}

class ServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "brook_commands_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    OpenService();
  }
  void TearDown() override {
    CloseService();
    std::filesystem::remove_all(dir_);
  }

  // Opens (or reopens, after CloseService, as a restart does) everything on dir_.
  void OpenService() {
    storage::EngineOptions opts;
    opts.dbpath = dir_;
    opts.group_commit_hook = group_commit_hook_;
    auto e = storage::Engine::Open(opts);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    auto c = catalog::Catalog::Open(engine_.get());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    cursors_ = std::make_unique<CursorRegistry>(&stats_);
    sessions_ = std::make_unique<SessionCatalog>(engine_.get());
    service_.engine = engine_.get();
    service_.catalog = catalog_.get();
    service_.cursors = cursors_.get();
    service_.sessions = sessions_.get();
    service_.stats = &stats_;
  }
  void CloseService() {
    cursors_.reset();
    sessions_.reset();
    catalog_.reset();
    engine_.reset();
  }

  std::string dir_;
  // Passed to the engine (EngineOptions::group_commit_hook); set it before SetUp.
  std::function<void(size_t)> group_commit_hook_;
  ServerStats stats_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<CursorRegistry> cursors_;
  std::unique_ptr<SessionCatalog> sessions_;
  ServiceContext service_;
  ClientInfo client_;
};

}  // namespace brook::commands::testsupport
