// Celery's global options, written before the subcommand (`celery -A hysds
// -b URL worker ...`), so that a command line written for Celery works with
// only the program's name changed.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace verdi {

struct CeleryGlobalFlags {
  /// -A/--app: the Celery application to load; verdi has none to load (its
  /// one task is built in), so it is accepted and shown.
  std::string app;
  /// -b/--broker and --result-backend: as Celery does, they stand for the
  /// environment variables CELERY_BROKER_URL and CELERY_RESULT_BACKEND.
  std::string broker, result_backend;
  /// --config: the configuration module (celeryconfig) or a file.
  std::string config;
  /// --workdir: the directory to change to first.
  std::string workdir;
  /// --loader, -C/--no-color, -q/--quiet: accepted (verdi has no loader, no
  /// colours and no banner).
  std::string loader;
  bool no_color = false, quiet = false;
};

/// Adds those options to the `verdi` program itself.
void AddCeleryGlobalFlags(CLI::App* app, CeleryGlobalFlags* flags);

}  // namespace verdi
