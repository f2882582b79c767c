// brook: Brook's command-line tool. Subcommands:
//   brook token decode TOKEN    what a change-stream resume token holds
#include <CLI/CLI.hpp>

#include <string>

#include "token_command.h"

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

  CLI11_PARSE(app, argc, argv);
  if (*decode) return brook::tools::RunTokenDecode(token_text);
  return 0;
}
