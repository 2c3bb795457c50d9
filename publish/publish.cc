#include "publish/publish.h"

#include <curl/curl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
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

  // Uploads one planned product; fills its document and its staged metric.
  Status Upload(const Plan& plan, bool force, Json* doc, Json* staged) {
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
    for (const ProductFile& f : files) {
      bool existed = false;
      uint64_t size = 0;
      std::string url = localize::JoinUrl(plan.location, f.relpath);
      VERDI_RETURN_IF_ERROR(PutProductFile(product, f, url, true, &existed, &size));
      if (existed)
        return Status::Failed(fmt::format("product {}: {} exists already (not written by this job)",
                                          product.id, RedactUrls(url)));
      bytes += size;
    }

    // Browse images (clobber allowed): each *browse_small.png and its full-size sibling.
    Json images = Json::array();
    if (!plan.browse_location.empty()) {
      for (const ProductFile& f : files) {
        if (!f.relpath.ends_with("browse_small.png")) continue;
        std::string small = f.relpath;
        std::string big = small.substr(0, small.size() - 10) + ".png";  // "_small.png"
        bool has_big = std::any_of(files.begin(), files.end(),
                                   [&](const ProductFile& g) { return g.relpath == big; });
        for (const std::string& rel : has_big ? std::vector{small, big} : std::vector{small}) {
          std::string url = localize::JoinUrl(plan.browse_location, rel);
          auto file = std::find_if(files.begin(), files.end(),
                                   [&](const ProductFile& g) { return g.relpath == rel; });
          uint64_t size = 0;
          VERDI_RETURN_IF_ERROR(
              PutProductFile(product, *file, url, false, nullptr, &size).WithPrefix("browse"));
          made_.push_back(url);
        }
        images.push_back(
            {{"img", has_big ? big : small}, {"small_img", small}, {"tooltip", small}});
      }
      SortImages(plan.sort_order, &images);
    }
    auto end = WallClock::now();

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
                        bool no_clobber, bool* existed, uint64_t* size) {
    FileHandle fd;
    VERDI_RETURN_IF_ERROR(dir_.OpenRegular(f.real, &fd, size).WithPrefix("product " + product.id));
    return up_.PutFd(fd.get(), f.path.string(), url, no_clobber, existed)
        .WithPrefix("product " + product.id);
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

// "2024-01-01T00:00:00.000000Z" (IsoUtc's form) as a time; nullopt if not.
std::optional<WallClock::time_point> ParseIsoUtc(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  std::tm tm{};
  const std::string text = value.get<std::string>();
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  double fraction = *rest == '.' ? std::atof(rest) : 0.0;
  return WallClock::from_time_t(timegm(&tm)) +
         std::chrono::duration_cast<WallClock::duration>(std::chrono::duration<double>(fraction));
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
    Json doc, entry;
    st = publisher.Upload(plan, force, &doc, &entry);
    if (!st.ok()) break;
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
  auto now = WallClock::now();
  std::optional<WallClock::time_point> started = ParseIsoUtc(At(*job, {"job_info", "time_start"}));
  for (size_t i = 0; i < plans.size(); ++i) {
    const Plan& plan = plans[i];
    Json prov = {{"product_type", plan.rule->dataset()},
                 {"processing_start_time", At(*job, {"job_info", "time_start"})},
                 {"availability_time", IsoUtc(now)}};
    // Minutes, as HySDS reports latencies.
    if (started) prov["processing_latency"] = SecondsBetween(*started, now) / 60.0;
    Json more;
    if (dir.ReadJson(plan.product.real / (plan.product.id + ".prod_prov.json"), &more).ok() &&
        more.is_object())
      prov.update(more);
    metrics["product_provenance"][plan.product.id] = prov;
  }
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
