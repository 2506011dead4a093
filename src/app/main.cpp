// powchain: command-line entry point. Parsing only; the work happens in the
// libraries below.
#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"powchain: a proof-of-work blockchain node"};
  app.set_version_flag("--version", std::string("powchain ") + POWCHAIN_VERSION);
  app.footer(
      "The node itself (`powchain node`) is not built yet; this executable currently offers\n"
      "--help and --version only. See README.md.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (argc == 1) std::cout << app.help();
  return 0;
}
