// brook: Brook's command-line tool. Subcommands:
//   brook token decode TOKEN    what a change-stream resume token holds
//   brook watch ...             the change-stream processor (see `brook watch --help`)
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "token_command.h"
#include "watch/options.h"
#include "watch/processor.h"
#include "watch/watch_command.h"

int main(int argc, char** argv) {
  CLI::App app{"brook: tools for Brook, the change-stream database"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("brook ") + BROOK_VERSION);

  auto* token = app.add_subcommand("token", "Work with change-stream resume tokens");
  token->require_subcommand(1);
  std::string token_text;
  auto* decode = token->add_subcommand(
      "decode",
      "Print what a resume token holds: cluster time, type, txnOpIndex, collection UUID and "
      "event identifier.\n\nExamples:\n  brook token decode 8263...04\n"
      "  brook token decode '{\"_data\": \"8263...04\"}'");
  decode->add_option("TOKEN", token_text, "the _data hex, or the token document as JSON")->required();

  brook::watch::WatchFlags watch_flags;
  auto* watch = app.add_subcommand(
      "watch",
      "Tail a change stream into a sink, checkpointing the resume token after every batch: exactly once "
      "into file: sinks, at least once into stdout, http and exec sinks (each event's _id is its token, "
      "for deduplication). Works against brookd and any MongoDB replica set.");
  brook::watch::AddWatchFlags(watch, &watch_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : brook::watch::kExitUsage;
  }
  if (*decode) return brook::tools::RunTokenDecode(token_text);
  if (*watch) {
    auto options = brook::watch::ValidateWatchFlags(watch_flags);
    if (!options.ok()) {
      std::fprintf(stderr, "brook watch: %s\n", options.status().reason().c_str());
      return brook::watch::kExitUsage;
    }
    return brook::watch::RunWatch(options.value());
  }
  return 0;
}
