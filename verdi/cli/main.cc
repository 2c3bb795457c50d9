// verdi: a Celery-compatible job worker in the style of HySDS's.
#include <CLI/CLI.hpp>

#include "verdi/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"verdi: a Celery-compatible job worker for HySDS jobs", "verdi"};
  app.set_version_flag("--version", "verdi " VERDI_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  verdi::CeleryGlobalFlags globals;
  verdi::AddCeleryGlobalFlags(&app, &globals);
  verdi::AddManagerCommand(&app, &exit_code);
  verdi::AddMonitorCommand(&app, &exit_code);
  verdi::AddRunJobCommand(&app, &exit_code);
  verdi::AddSubmitCommand(&app, &exit_code);
  verdi::AddValidateCommand(&app, &exit_code);
  verdi::AddWorkerCommand(&app, &globals, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are not errors; any other bad usage exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
