#include "verdi/cli/celery_global_flags.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace verdi {
namespace {

// As Celery does with its global -b, --result-backend and --config: the
// value becomes the environment variable every subcommand reads.
void ToEnv(CLI::App* app, const std::string& names, std::string* field, const char* env,
           const std::string& description) {
  app->add_option_function<std::string>(
         names,
         [field, env](const std::string& value) {
           *field = value;
           setenv(env, value.c_str(), 1);
         },
         description)
      ->trigger_on_parse();
}

}  // namespace

void AddCeleryGlobalFlags(CLI::App* app, CeleryGlobalFlags* flags) {
  app->option_defaults()->group("Celery's global options (before the subcommand)");
  app->add_option("-A,--app", flags->app,
                  "Celery application (accepted: verdi's one task, run_job, is built in)");
  ToEnv(app, "-b,--broker", &flags->broker, "CELERY_BROKER_URL",
        "Broker URL: sets CELERY_BROKER_URL, as Celery does");
  ToEnv(app, "--result-backend", &flags->result_backend, "CELERY_RESULT_BACKEND",
        "Result backend URL: sets CELERY_RESULT_BACKEND, as Celery does");
  ToEnv(app, "--config", &flags->config, "CELERY_CONFIG_MODULE",
        "Configuration module (e.g. celeryconfig, in the working directory or on\n"
        "PYTHONPATH) or file: sets CELERY_CONFIG_MODULE, as Celery does");
  app->add_option("--workdir", flags->workdir, "Change to this directory first")
      ->check(CLI::ExistingDirectory)
      ->each([](const std::string& dir) {
        if (chdir(dir.c_str()) != 0)
          throw CLI::ValidationError("--workdir", dir + ": " + std::strerror(errno));
      })
      ->trigger_on_parse();
  app->add_option("--loader", flags->loader, "Celery loader (accepted; verdi has none)");
  app->add_flag("-C,--no-color", flags->no_color, "No colours (verdi uses none)");
  app->add_flag("-q,--quiet", flags->quiet, "No banner (verdi prints none)");
  app->option_defaults()->group("Options");
}

}  // namespace verdi
