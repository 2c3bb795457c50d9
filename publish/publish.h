// Publishing the datasets a job made, all or nothing (HySDS's publish
// post-processor), and triage of failed jobs (HySDS's triage post-processor).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "localize/upload.h"
#include "localize/url.h"
#include "publish/metadata.h"
#include "publish/products.h"

namespace verdi::publish {

struct PublishSettings {
  std::string datasets_config_file;  // HYSDS_DATASETS_CFG
  /// GRQ_UPDATE_URL_BULK: the published documents are POSTed there in one
  /// request; none when empty.
  std::string grq_update_url_bulk;
  int index_tries = 10;  // BACKOFF_MAX_TRIES
  double index_backoff_seconds = 1;
  localize::UploadOptions upload;
  /// Runs extractors; required when an entry has one.
  ProcessRunner run;
  std::chrono::seconds extractor_timeout{600};
  std::string hostname;  // {hostname} in publish and browse templates
  /// Progress and warnings (misplaced dataset files, replaced products).
  std::function<void(const std::string&)> log;
  /// Told of each product's document once all of a call's products are
  /// uploaded and indexed (HySDS queues each as a `dataset:<ipath>` job
  /// then); may be empty.
  std::function<void(const Json& doc)> published;
};

/// Publishes every product under `job_dir` with the rules of the datasets
/// config: everything is checked first (rules, templates, dataset.json,
/// metadata), then uploaded product by product, then indexed. Any failure
/// removes everything this call published and returns the first error,
/// naming the product and where. On success `job` (the whole job document)
/// gets job_info.metrics.products_staged and product_provenance, and
/// `_datasets.json` is written (`[]` when there was nothing to publish).
/// `context` is the job's `_context.json` as reloaded after the command.
Status PublishDatasets(const PublishSettings& settings, const std::filesystem::path& job_dir,
                       const Json& context, Json* job);

/// The same for the given products (the datasets config is read here);
/// `force` replaces products that exist already whoever published them.
/// The published documents go to `docs`; _datasets.json is not written.
Status PublishProducts(const PublishSettings& settings, const std::filesystem::path& job_dir,
                       const Json& context, const std::vector<Product>& products, bool force,
                       Json* job, Json* docs);

/// Triage of a failed job (unless the context sets _triage_disabled): a
/// `triaged_job-{job_id}_task-{task_id}` product (or _triage_id_format)
/// with the job's `_*` files, `*.log` files and the context's
/// _triage_additional_globs matches, published replacing any earlier one;
/// `_triaged.json` holds its document.
Status TriageJob(const PublishSettings& settings, const std::filesystem::path& job_dir,
                 const Json& context, Json* job);

}  // namespace verdi::publish
