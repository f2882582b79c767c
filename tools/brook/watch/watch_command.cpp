#include "watch/watch_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "watch/change_source.h"
#include "watch/initial_sync.h"
#include "watch/mongo_checkpoint.h"
#include "watch/processor.h"

namespace brook::watch {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

void ExcludeCheckpointNamespace(WatchOptions* o) {
  if (o->checkpoint.kind != CheckpointSpec::Kind::kMongo) return;
  if (o->scope == Scope::kCollection) return;  // another collection can't be in scope
  if (o->scope == Scope::kDatabase && o->db != o->checkpoint.db) return;
  BsonDoc pipeline = BsonDoc::New();
  bson_t arr, stage, match, or_arr, a, b, ne;
  BSON_APPEND_ARRAY_BEGIN(pipeline.mut(), "pipeline", &arr);
  BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &stage);
  BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
  BSON_APPEND_ARRAY_BEGIN(&match, "$or", &or_arr);
  BSON_APPEND_DOCUMENT_BEGIN(&or_arr, "0", &a);
  BSON_APPEND_DOCUMENT_BEGIN(&a, "ns.db", &ne);
  BSON_APPEND_UTF8(&ne, "$ne", o->checkpoint.db.c_str());
  bson_append_document_end(&a, &ne);
  bson_append_document_end(&or_arr, &a);
  BSON_APPEND_DOCUMENT_BEGIN(&or_arr, "1", &b);
  BSON_APPEND_DOCUMENT_BEGIN(&b, "ns.coll", &ne);
  BSON_APPEND_UTF8(&ne, "$ne", o->checkpoint.coll.c_str());
  bson_append_document_end(&b, &ne);
  bson_append_document_end(&or_arr, &b);
  bson_append_array_end(&match, &or_arr);
  bson_append_document_end(&stage, &match);
  bson_append_document_end(&arr, &stage);
  // Then the user's stages, renumbered.
  bson_iter_t it, user;
  int k = 1;
  if (bson_iter_init_find(&it, o->pipeline.get(), "pipeline") && bson_iter_recurse(&it, &user)) {
    while (bson_iter_next(&user)) {
      std::string key = std::to_string(k++);
      bson_append_iter(&arr, key.c_str(), -1, &user);
    }
  }
  bson_append_array_end(pipeline.mut(), &arr);
  o->pipeline = std::move(pipeline);
}

int RunWatch(const WatchOptions& given) {
  WatchOptions options = given;
  ExcludeCheckpointNamespace(&options);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  mongoc_init();
  bool tty = isatty(2) != 0;
  StatusReporter::Mode mode = options.status == StatusMode::kOff    ? StatusReporter::Mode::kOff
                              : options.status == StatusMode::kTty  ? StatusReporter::Mode::kTty
                              : options.status == StatusMode::kJson ? StatusReporter::Mode::kJson
                              : tty                                 ? StatusReporter::Mode::kTty
                                                                    : StatusReporter::Mode::kJson;
  int64_t interval = options.status_interval_ms > 0          ? options.status_interval_ms
                     : mode == StatusReporter::Mode::kTty ? 250
                                                          : 10000;
  StatusReporter reporter(mode, std::chrono::milliseconds(interval));

  int rc = kExitError;
  {
    std::unique_ptr<CheckpointStore> store;
    std::string err;
    if (options.checkpoint.kind == CheckpointSpec::Kind::kFile) {
      store = std::make_unique<FileCheckpointStore>(options.checkpoint.path, options.name);
    } else {
      mongoc_client_t* client = NewClient(options.uri, &err);
      if (!client) {
        reporter.Log("error: " + err);
        mongoc_cleanup();
        return kExitUsage;
      }
      store = std::make_unique<MongoCheckpointStore>(client, options.checkpoint.db, options.checkpoint.coll,
                                                     options.name);
    }
    std::unique_ptr<Sink> sink = MakeSink(options.sink);
    std::unique_ptr<MongoInitialSync> initial_sync;
    mongoc_client_t* sync_client = NewClient(options.uri, &err);
    if (sync_client) initial_sync = std::make_unique<MongoInitialSync>(options, sync_client, &reporter, &g_stop);

    ProcessorDeps deps;
    deps.make_source = [&options] { return MakeMongocSource(options); };
    deps.sink = sink.get();
    deps.store = store.get();
    deps.reporter = &reporter;
    deps.initial_sync = initial_sync.get();
    deps.stop = &g_stop;
    Processor processor(options, std::move(deps));
    rc = processor.Run();
    reporter.Finish(StatusReporter::Clock::now());
  }
  mongoc_cleanup();
  return rc;
}

}  // namespace brook::watch
