#include "publish/publish.h"

#include <curl/curl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/redact.h"
#include "base/timestamp.h"
#include "jobspec/job_files.h"
#include "publish/datasets_config.h"
#include "publish/products.h"
#include "publish/template.h"

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPublishContext = "_publish.context.json";

const Json& At(const Json& doc, std::initializer_list<std::string_view> keys) {
  static const Json kNull;
  const Json* v = FindPath(doc, keys);
  return v == nullptr ? kNull : *v;
}

// A product resolved against its rule, before anything is uploaded.
struct Plan {
  Product product;
  const DatasetRule* rule = nullptr;
  Json dataset, met;
  std::string location;
  std::vector<std::string> urls;
  std::string browse_location;
  std::vector<std::string> browse_urls;
  std::vector<std::string> sort_order;
};

// How many files of one product are uploaded at once.
constexpr size_t kParallelUploads = 8;

// What one publication has done so far, so that it can be undone.
class Publisher {
 public:
  Publisher(const PublishSettings& settings, const JobDir& dir, const Json& context,
            const Json& job)
      : s_(settings), dir_(dir), context_(context), job_(job), up_(settings.upload) {}

  Status MakePlan(const DatasetsConfig& config, const Product& product, Plan* plan) {
    plan->product = product;
    std::map<std::string, std::string> groups;
    plan->rule = config.Match(product.dir, &groups);
    if (plan->rule == nullptr)
      return Status::Failed(fmt::format("product {} ({}): no entry of {} matches it", product.id,
                                        product.dir.string(), s_.datasets_config_file));
    const DatasetRule& rule = *plan->rule;
    fs::path dataset_file = product.real / (product.id + ".dataset.json");
    VERDI_RETURN_IF_ERROR(
        dir_.ReadJson(dataset_file, &plan->dataset).WithPrefix("product " + product.id));
    if (!plan->dataset.is_object())
      return Status::Invalid(dataset_file.string() + ": expected a JSON object");
    if (!plan->dataset.contains("version"))
      return Status::Invalid(dataset_file.string() + ": version is missing (it is required)");
    std::string missing;
    for (const char* key : {"label", "location", "starttime", "endtime", "creation_timestamp"})
      if (!plan->dataset.contains(key)) missing += std::string(missing.empty() ? "" : ", ") + key;
    if (!missing.empty() && s_.log)
      s_.log(fmt::format("product {}: {} has no {} (optional)", product.id,
                         dataset_file.filename().string(), missing));
    VERDI_RETURN_IF_ERROR(
        LoadMetadata(dir_, product, rule, s_.run, s_.extractor_timeout, &plan->met));

    TemplateFields fields;
    fields.names = groups;
    const Json& v = plan->dataset["version"];
    fields.names.try_emplace("version", v.is_string() ? v.get<std::string>() : v.dump());
    fields.names.try_emplace("level", rule.level);
    fields.names.try_emplace("type", rule.type);
    fields.names.try_emplace("hostname", s_.hostname);
    fields.objects["dataset"] = plan->dataset;
    fields.objects["met"] = plan->met;
    // Every value filled in must keep the destination where its fixed part points.
    auto fill = [&](const std::string& text, const std::string& key, std::string* out) {
      return FillDestinationTemplate(text, fields, out)
          .WithPrefix(fmt::format("product {}: {}.{}", product.id, rule.where, key));
    };
    if (!rule.publish)
      return Status::Invalid(
          fmt::format("product {}: {} has no publish location", product.id, rule.where));
    VERDI_RETURN_IF_ERROR(fill(rule.publish->location, "publish.location", &plan->location));
    for (size_t i = 0; i < rule.publish->urls.size(); ++i) {
      std::string url;
      VERDI_RETURN_IF_ERROR(fill(rule.publish->urls[i], fmt::format("publish.urls[{}]", i), &url));
      plan->urls.push_back(url);
    }
    if (rule.browse) {
      VERDI_RETURN_IF_ERROR(fill(rule.browse->location, "browse.location", &plan->browse_location));
      for (size_t i = 0; i < rule.browse->urls.size(); ++i) {
        std::string url;
        VERDI_RETURN_IF_ERROR(fill(rule.browse->urls[i], fmt::format("browse.urls[{}]", i), &url));
        plan->browse_urls.push_back(url);
      }
      plan->sort_order = rule.browse->sort_order;
    }
    return Status::OK();
  }

  // Uploads one planned product; fills its document, its staged metric and
  // when it was available (its last file written).
  Status Upload(const Plan& plan, bool force, Json* doc, Json* staged,
                WallClock::time_point* available) {
    const Product& product = plan.product;
    const DatasetRule& rule = *plan.rule;
    auto start = WallClock::now();
    // The job's _context.json goes with the product, read and written
    // without following links: a link planted at either name is replaced.
    std::string context_text;
    VERDI_RETURN_IF_ERROR(dir_.ReadFile("_context.json", kMaxJobJsonBytes, &context_text)
                              .WithPrefix("product " + product.id));
    VERDI_RETURN_IF_ERROR(
        dir_.WriteFile(product.real / (product.id + ".context.json"), context_text)
            .WithPrefix("product " + product.id));
    std::vector<ProductFile> files;
    VERDI_RETURN_IF_ERROR(ListProductFiles(dir_.root(), product, &files));

    VERDI_RETURN_IF_ERROR(ClaimLocation(plan, force));
    uint64_t bytes = 0;
    VERDI_RETURN_IF_ERROR(PutProductFiles(plan, files, &bytes));

    Json images = Json::array();
    if (!plan.browse_location.empty()) VERDI_RETURN_IF_ERROR(PublishBrowse(plan, files, &images));
    auto end = WallClock::now();
    *available = end;

    Json& d = *doc;
    d = Json::object();
    d["id"] = product.id;
    d["objectid"] = product.id;
    d["metadata"] = plan.met;
    d["dataset"] = rule.dataset();
    d["ipath"] = rule.ipath;
    d["system_version"] = plan.dataset["version"];
    d["dataset_level"] = rule.level;
    d["dataset_type"] = rule.type;
    d["urls"] = plan.urls;
    d["browse_urls"] = plan.browse_urls;
    d["images"] = images;
    d["prov"] = context_.contains("_prov") ? context_["_prov"] : Json::object();
    d.update(plan.dataset);
    if (!rule.index.is_null()) d["index"] = rule.index;
    d["grq_index_result"] = {{"index", rule.index}};  // as HySDS's bulk publish sets it

    double seconds = SecondsBetween(start, end);
    *staged = {{"path", product.dir.string()},
               {"disk_usage", bytes},
               {"time_start", IsoUtc(start)},
               {"time_end", IsoUtc(end)},
               {"duration", seconds},
               {"transfer_rate", seconds > 0 ? bytes / seconds : 0.0},
               {"id", product.id},
               {"urls", plan.urls},
               {"browse_urls", plan.browse_urls},
               {"dataset", rule.dataset()},
               {"ipath", rule.ipath},
               {"system_version", plan.dataset["version"]},
               {"dataset_level", rule.level},
               {"dataset_type", rule.type},
               {"index", rule.index}};
    if (s_.log)
      s_.log(fmt::format("product {} published to {}", product.id, RedactUrls(plan.location)));
    return Status::OK();
  }

  // One bulk POST of every document; the body is the list JSON-encoded as a
  // JSON string, as HySDS sends it.
  Status Index(const Json& docs) {
    if (s_.grq_update_url_bulk.empty() || docs.empty()) return Status::OK();
    // Names from the job's files may be any bytes: never an exception here.
    std::string body = Json(docs.dump(-1, ' ', false, Json::error_handler_t::replace)).dump();
    double backoff = s_.index_backoff_seconds;
    std::string why;
    for (int attempt = 1; attempt <= std::max(1, s_.index_tries); ++attempt) {
      long code = 0;
      why = Post(body, &code);
      if (why.empty() && code >= 200 && code < 300) return Status::OK();
      if (why.empty()) why = fmt::format("HTTP {}", code);
      if (attempt < s_.index_tries) {
        if (s_.log)
          s_.log(fmt::format("indexing at {}: {}; try {} of {}", RedactUrls(s_.grq_update_url_bulk),
                             why, attempt + 1, s_.index_tries));
        std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
        backoff = std::min(backoff * 2, 64.0);
      }
    }
    return Status::Failed(fmt::format("indexing the products at {}: {} (after {} tries)",
                                      RedactUrls(s_.grq_update_url_bulk), why,
                                      std::max(1, s_.index_tries)));
  }

  // Removes everything this publication wrote, newest first.
  void Rollback() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      Status st = up_.Remove(*it);
      if (s_.log)
        s_.log(st.ok() ? fmt::format("rolled back {}", RedactUrls(*it))
                       : fmt::format("rolling back: {}", st.message()));
    }
    made_.clear();
  }

 private:
  // A file of the product uploaded from what was listed, opened without
  // following any link: a link or a FIFO swapped in since is refused.
  Status PutProductFile(const Product& product, const ProductFile& f, const std::string& url,
                        bool no_clobber, bool* existed, uint64_t* size,
                        localize::Uploader* up = nullptr) {
    FileHandle fd;
    VERDI_RETURN_IF_ERROR(dir_.OpenRegular(f.real, &fd, size).WithPrefix("product " + product.id));
    return (up ? *up : up_)
        .PutFd(fd.get(), f.path.string(), url, no_clobber, existed)
        .WithPrefix("product " + product.id);
  }

  // The product's files under its location, none over an existing one,
  // kParallelUploads at once (each thread its own connection): a product of
  // many small files is bound by round trips, not by bytes. All have ended
  // when this returns, so that a rollback sees everything written.
  Status PutProductFiles(const Plan& plan, const std::vector<ProductFile>& files, uint64_t* bytes) {
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> total{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    Status first = Status::OK();
    auto put_some = [&](localize::Uploader* up) {
      for (size_t i; !failed && (i = next++) < files.size();) {
        const ProductFile& f = files[i];
        bool existed = false;
        uint64_t size = 0;
        std::string url = localize::JoinUrl(plan.location, f.relpath);
        Status st = PutProductFile(plan.product, f, url, true, &existed, &size, up);
        if (st.ok() && existed)
          st = Status::Failed(fmt::format("product {}: {} exists already (not written by this job)",
                                          plan.product.id, RedactUrls(url)));
        if (!st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = st;
          failed = true;
          return;
        }
        total += size;
      }
    };
    size_t helpers = std::min(files.size(), kParallelUploads) - (files.empty() ? 0 : 1);
    std::vector<std::unique_ptr<localize::Uploader>> uploaders;
    std::vector<std::thread> threads;
    for (size_t t = 0; t < helpers; ++t) {
      uploaders.push_back(std::make_unique<localize::Uploader>(s_.upload));
      threads.emplace_back(put_some, uploaders.back().get());
    }
    put_some(nullptr);
    for (std::thread& t : threads) t.join();
    *bytes = total;
    return first;
  }

  // The publish context goes first, with no-clobber: whoever holds it owns
  // the location. An earlier one is replaced only for the same payload (a
  // retry) or with force (_force_ingest, triage). It is uploaded from memory:
  // nothing is written in the job dir for it.
  Status ClaimLocation(const Plan& plan, bool force) {
    const Product& product = plan.product;
    Json claim = {{"payload_id", At(job_, {"job_info", "job_payload", "payload_task_id"})},
                  {"payload_hash", At(job_, {"job_info", "payload_hash"})},
                  {"task_id", At(job_, {"task_id"})},
                  {"job_id", At(job_, {"job_id"})}};
    FileHandle memfd(memfd_create(kPublishContext, MFD_CLOEXEC));
    if (!memfd.valid()) return Status::IOError("memfd_create", errno);
    std::string claim_text = DumpJsonFile(claim);
    if (write(memfd.get(), claim_text.data(), claim_text.size()) !=
        static_cast<ssize_t>(claim_text.size()))
      return Status::IOError("writing the publish context", errno);
    std::string url = localize::JoinUrl(plan.location, kPublishContext);
    std::string where = RedactUrls(plan.location);
    Status st = [&]() -> Status {
      bool existed = false;
      VERDI_RETURN_IF_ERROR(up_.PutFd(memfd.get(), kPublishContext, url, true, &existed));
      if (!existed) return Status::OK();
      std::string text;
      VERDI_RETURN_IF_ERROR(up_.Read(url, &text));
      Json theirs;
      (void)ParseJsonText(text, url, &theirs);  // unreadable: no payload of theirs
      const Json& their_payload = theirs.is_object() ? theirs.value("payload_id", Json()) : Json();
      bool retry = !claim["payload_id"].is_null() && their_payload == claim["payload_id"];
      if (!retry && !force)
        return Status::Failed(fmt::format(
            "product {} already exists at {} (published by payload {}); set _force_ingest to "
            "replace it",
            product.id, where, their_payload.is_null() ? "unknown" : their_payload.dump()));
      if (s_.log)
        s_.log(fmt::format("product {} at {}: replacing it ({})", product.id, where,
                           retry ? "a retry of the same payload" : "forced"));
      VERDI_RETURN_IF_ERROR(up_.Remove(plan.location));
      VERDI_RETURN_IF_ERROR(up_.PutFd(memfd.get(), kPublishContext, url, true, &existed));
      if (existed)
        return Status::Failed(fmt::format(
            "product {}: another job took {} while it was being replaced", product.id, where));
      return Status::OK();
    }();
    if (st.ok()) made_.push_back(plan.location);
    return st.WithPrefix(st.message().starts_with("product ") ? "publishing"
                                                              : "publishing product " + product.id);
  }

  // Browse images as HySDS's publish does them: each `*browse.png` at the
  // top of the product is an image (tooltip: its name before
  // ".browse.png"); only its `*browse_small.png` sibling, when there is one,
  // goes to the browse location (clobber allowed). Then sort_order.
  Status PublishBrowse(const Plan& plan, const std::vector<ProductFile>& files, Json* images) {
    static const std::string kBig = "browse.png", kSmall = "browse_small.png";
    for (const ProductFile& f : files) {
      const std::string& name = f.relpath;
      if (name.find('/') != std::string::npos || name.starts_with(".") || !name.ends_with(kBig))
        continue;
      std::string small = name;  // Python's str.replace: every occurrence
      for (size_t at = small.find(kBig); at != std::string::npos;
           at = small.find(kBig, at + kSmall.size()))
        small.replace(at, kBig.size(), kSmall);
      auto file = std::find_if(files.begin(), files.end(),
                               [&](const ProductFile& g) { return g.relpath == small; });
      Json small_img = nullptr;
      if (file != files.end()) {
        std::string url = localize::JoinUrl(plan.browse_location, small);
        uint64_t size = 0;
        VERDI_RETURN_IF_ERROR(
            PutProductFile(plan.product, *file, url, false, nullptr, &size).WithPrefix("browse"));
        made_.push_back(url);
        small_img = small;
      }
      constexpr std::string_view kSuffix = ".browse.png";  // HySDS: ^(.+)\.browse\.png$
      std::string tooltip = name.size() > kSuffix.size() && name.ends_with(kSuffix)
                                ? name.substr(0, name.size() - kSuffix.size())
                                : "";
      images->push_back({{"img", name}, {"small_img", small_img}, {"tooltip", tooltip}});
    }
    SortImages(plan.sort_order, images);
    return Status::OK();
  }

  static void SortImages(const std::vector<std::string>& order, Json* images) {
    if (order.empty()) return;
    std::vector<PythonRegex> res(order.size());
    for (size_t i = 0; i < order.size(); ++i)
      if (!PythonRegex::Compile(order[i], "browse.sort_order", &res[i]).ok()) return;
    auto rank = [&](const Json& image) {
      std::string name = image["img"].get<std::string>();
      for (size_t i = 0; i < res.size(); ++i)
        if (res[i].Search(name, nullptr)) return i;
      return res.size();
    };
    std::stable_sort(images->begin(), images->end(),
                     [&](const Json& a, const Json& b) { return rank(a) < rank(b); });
  }

  static size_t Collect(char* data, size_t size, size_t n, void* userp) {
    static_cast<std::string*>(userp)->append(data, size * n);
    return size * n;
  }

  // "" on a response (its code in *code), else why there was none.
  std::string Post(const std::string& body, long* code) {
    localize::Url url;
    Status st = localize::ParseUrl(s_.grq_update_url_bulk, &url);
    if (!st.ok()) return st.message();
    CURL* e = curl_easy_init();
    if (e == nullptr) return "curl_easy_init failed";
    std::string response;
    localize::TransferHeaders headers;
    headers.Add("Content-Type: application/json");
    st = localize::ConfigureTransfer(e, url, s_.upload.transfer, &headers);
    if (!st.ok()) {
      curl_easy_cleanup(e);
      return st.message();
    }
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &response);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(e);
    return rc == CURLE_OK ? "" : curl_easy_strerror(rc);
  }

  const PublishSettings& s_;
  const JobDir& dir_;
  const Json& context_;
  const Json& job_;
  localize::Uploader up_;
  std::vector<std::string> made_;  // locations and browse files written, in order
};

// A time as HySDS's parse_iso8601 reads it: "%Y-%m-%dT%H:%M:%S.%fZ" (1 to 6
// digits) or "%Y-%m-%dT%H:%M:%SZ"; nullopt for anything else.
std::optional<WallClock::time_point> ParseIso8601(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  std::tm tm{};
  const std::string text = value.get<std::string>();
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  int64_t micros = 0;
  if (*rest == '.') {
    int digits = 0;
    for (++rest; std::isdigit(static_cast<unsigned char>(*rest)) && digits < 7; ++rest, ++digits)
      micros = micros * 10 + (*rest - '0');
    if (digits == 0 || digits > 6) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  if (std::string_view(rest) != "Z") return std::nullopt;
  return WallClock::from_time_t(timegm(&tm)) + std::chrono::microseconds(micros);
}

// HySDS's metrics.product_provenance for a product that became available
// at `available` (publish_files_wrapper): one flat object, latencies in
// minutes, `X.prod_prov.json` merged over it, then ground-system and access
// latencies when it gives acquisition_start_time and source_production_time.
Status ProductProvenance(const Plan& plan, const JobDir& dir, const Json& job,
                         WallClock::time_point available, Json* out) {
  const Json& time_start = At(job, {"job_info", "time_start"});
  std::optional<WallClock::time_point> started = ParseIso8601(time_start);
  auto minutes = [](WallClock::time_point from, WallClock::time_point to) {
    return SecondsBetween(from, to) / 60.0;
  };
  double latency = started ? minutes(*started, available) : 0.0;
  Json prov = {{"product_type", plan.rule->ipath},
               {"processing_start_time", time_start},
               {"availability_time", IsoUtc(available)},
               {"processing_latency", latency},
               {"total_latency", latency}};
  const std::string name = plan.product.id + ".prod_prov.json";
  std::error_code ec;
  if (fs::exists(plan.product.real / name, ec) || fs::is_symlink(plan.product.real / name, ec)) {
    Json more;
    VERDI_RETURN_IF_ERROR(
        dir.ReadJson(plan.product.real / name, &more).WithPrefix("product " + plan.product.id));
    if (!more.is_object())
      return Status::Invalid(fmt::format("product {}: {}: expected a JSON object, got {}",
                                         plan.product.id, name, DescribeJson(more)));
    prov.update(more);
  }
  if (prov.contains("acquisition_start_time") && prov.contains("source_production_time")) {
    auto acquired = ParseIso8601(prov["acquisition_start_time"]);
    auto produced = ParseIso8601(prov["source_production_time"]);
    if (!acquired || !produced || !prov["total_latency"].is_number())
      return Status::Invalid(fmt::format(
          "product {}: {}: acquisition_start_time and source_production_time must be times such "
          "as 2024-01-01T00:00:00.000000Z, and total_latency a number",
          plan.product.id, name));
    double ground = minutes(*acquired, *produced), access = minutes(*produced, available);
    prov["ground_system_latency"] = ground;
    prov["access_latency"] = access;
    prov["total_latency"] = prov["total_latency"].get<double>() + ground + access;
  }
  *out = std::move(prov);
  return Status::OK();
}

}  // namespace

Status PublishProducts(const PublishSettings& s, const fs::path& job_dir, const Json& context,
                       const std::vector<Product>& products, bool force, Json* job, Json* docs) {
  DatasetsConfig config;
  VERDI_RETURN_IF_ERROR(DatasetsConfig::Load(s.datasets_config_file, &config));
  JobDir dir;
  VERDI_RETURN_IF_ERROR(JobDir::Open(job_dir, &dir));
  Publisher publisher(s, dir, context, *job);
  std::vector<Plan> plans(products.size());
  for (size_t i = 0; i < products.size(); ++i)
    VERDI_RETURN_IF_ERROR(publisher.MakePlan(config, products[i], &plans[i]));

  *docs = Json::array();
  Json staged = Json::array();
  Status st;
  for (const Plan& plan : plans) {
    Json doc, entry, prov;
    WallClock::time_point available;
    st = publisher.Upload(plan, force, &doc, &entry, &available);
    // HySDS keeps the provenance of the last product uploaded.
    if (st.ok()) st = ProductProvenance(plan, dir, *job, available, &prov);
    if (!st.ok()) break;
    (*job)["job_info"]["metrics"]["product_provenance"] = std::move(prov);
    docs->push_back(std::move(doc));
    staged.push_back(std::move(entry));
  }
  if (st.ok()) st = publisher.Index(*docs);
  if (!st.ok()) {
    publisher.Rollback();
    return st;
  }
  if (s.published)
    for (const Json& doc : *docs) s.published(doc);

  Json& metrics = (*job)["job_info"]["metrics"];
  if (!metrics.contains("products_staged") || !metrics["products_staged"].is_array())
    metrics["products_staged"] = Json::array();
  for (const Json& e : staged) metrics["products_staged"].push_back(e);
  return Status::OK();
}

Status PublishDatasets(const PublishSettings& settings, const fs::path& job_dir,
                       const Json& context, Json* job) {
  // Refuses a job dir swapped for a link before anything is read or written.
  JobDir dir;
  VERDI_RETURN_IF_ERROR(JobDir::Open(job_dir, &dir));
  std::vector<Product> products;
  VERDI_RETURN_IF_ERROR(FindProducts(job_dir, settings.log, &products));
  Json docs = Json::array();
  if (!products.empty()) {
    bool force = context.value("_force_ingest", false) == true;
    VERDI_RETURN_IF_ERROR(PublishProducts(settings, job_dir, context, products, force, job, &docs));
  }
  return dir.WriteFile("_datasets.json", DumpJsonFile(docs));
}

}  // namespace verdi::publish
