#include "localize/fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <mutex>
#include <system_error>

#include "jobspec/url_escape.h"
#include "localize/local_copy.h"
#include "localize/object_list.h"
#include "localize/retry.h"
#include "localize/url.h"

namespace verdi::localize {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

fs::path PartPath(const fs::path& dest) { return fs::path(dest.string() + ".part"); }

// Removes the credentials of `url` from a message (curl's error buffer).
std::string Scrub(std::string msg, const Url& url) {
  for (const std::string* secret : {&url.password}) {
    if (secret->empty()) continue;
    for (size_t pos; (pos = msg.find(*secret)) != std::string::npos;)
      msg.replace(pos, secret->size(), "***");
  }
  return msg;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

uint64_t TreeBytes(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return fs::file_size(p, ec);
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) total += it->file_size(ec2);
  }
  return total;
}

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  return Fixed(bytes, u == 0 ? 0 : 1) + " " + kUnits[u];
}

namespace {

Status CopyLocal(const Url& url, const fs::path& dest, const FetchOptions& opts, FetchResult* r) {
  std::error_code ec;
  if (!dest.parent_path().empty()) {
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return Status::IOError(dest.parent_path().string(), ec.value());
  }
  fs::path part = PartPath(dest);
  fs::remove_all(part, ec);
  Status st = CopyLocalSource(url, part, opts.local_source_check, &r->bytes);
  if (st.ok()) {
    fs::rename(part, dest, ec);
    if (ec) st = Status::IOError("renaming " + part.string() + " to " + dest.string(), ec.value());
  }
  if (!st.ok()) {
    std::error_code ignored;
    fs::remove_all(part, ignored);
  }
  return st;
}

// One file to download (an item, or one object under an S3 prefix).
struct Transfer {
  size_t index = 0;  // of the item
  Url url;
  fs::path dest;
  bool may_be_prefix = false;  // an S3 key without '/' at the end, given by the job
  CURL* easy = nullptr;
  FILE* out = nullptr;
  TransferHeaders headers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  int tries = 0;
  Clock::time_point next_start, started, last_progress;
};

size_t WriteCb(char* data, size_t size, size_t n, void* userp) {
  return std::fwrite(data, size, n, static_cast<FILE*>(userp));
}

std::string Describe(CURLcode code, long http, const Transfer& t) {
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    std::string what = http == 404   ? "not found"
                       : http == 403 ? "forbidden"
                       : http == 401 ? "unauthorized"
                       : http == 202 ? "accepted, not ready yet"
                                     : "";
    return "HTTP " + std::to_string(http) + (what.empty() ? "" : " " + what) +
           t.headers.CredentialsNote(http);
  }
  if (code == CURLE_REMOTE_FILE_NOT_FOUND) return "not found";
  std::string msg = t.errbuf[0] ? t.errbuf : curl_easy_strerror(code);
  return Scrub(msg, t.url);
}

// The fetch of a list of items: the multi loop and its bookkeeping.
class Fetcher {
 public:
  Fetcher(const std::vector<FetchItem>& items, const FetchOptions& opts,
          std::vector<FetchResult>* results)
      : items_(items), opts_(opts), results_(*results), remaining_(items.size(), 0) {}

  ~Fetcher() {
    for (Transfer& t : net_) {
      if (t.easy) curl_easy_cleanup(t.easy);
      if (t.out) std::fclose(t.out);
    }
    if (multi_) curl_multi_cleanup(multi_);
  }

  Status Run();

 private:
  void Log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }
  void Progress(const std::string& line) const {
    if (opts_.progress) opts_.progress(line);
  }
  bool Cancelled() const { return opts_.cancelled && opts_.cancelled(); }

  // Adds one transfer per object under `prefix` of `parent`'s bucket into
  // the parent's dest; false in *any when there is none.
  Status Expand(const Url& parent, size_t index, const std::string& prefix, bool* any);
  Transfer* Add(size_t index, const Url& url, const fs::path& dest, bool may_be_prefix);
  Status Start(Transfer* t);
  void FinishFile(Transfer* t, bool ok, Status* st);
  Status Done(Transfer* t, CURLcode code);
  void StopAll(const std::string& why);
  void ReportProgress();

  const std::vector<FetchItem>& items_;
  const FetchOptions& opts_;
  std::vector<FetchResult>& results_;
  std::vector<int> remaining_;  // transfers of each item not finished yet
  std::deque<Transfer> net_;    // stable addresses
  size_t next_new_ = 0;
  std::vector<Transfer*> waiting_, running_;
  CURLM* multi_ = nullptr;
};

Transfer* Fetcher::Add(size_t index, const Url& url, const fs::path& dest, bool may_be_prefix) {
  net_.emplace_back();
  Transfer& t = net_.back();
  t.index = index;
  t.url = url;
  t.dest = dest;
  t.may_be_prefix = may_be_prefix;
  remaining_[index]++;
  return &t;
}

Status Fetcher::Expand(const Url& parent, size_t index, const std::string& prefix, bool* any) {
  std::vector<std::string> keys;
  VERDI_RETURN_IF_ERROR(ListPrefix(parent, prefix, opts_.transfer, opts_.tries, &keys));
  *any = false;
  for (const std::string& key : keys) {
    if (key.size() <= prefix.size() || key.back() == '/') continue;  // folder markers
    fs::path rel;
    if (!RelativeObjectPath(key, prefix, &rel)) {
      return Status::Failed(parent.Redacted() + ": object key '" + key +
                            "' would land outside the destination");
    }
    Url child;
    VERDI_RETURN_IF_ERROR(ParseUrl(parent.ObjectUrl(EncodeS3Key(key)), &child));
    Add(index, child, items_[index].dest / rel, false);
    *any = true;
  }
  return Status::OK();
}

Status Fetcher::Start(Transfer* t) {
  FetchResult& r = results_[t->index];
  std::error_code ec;
  if (!t->dest.parent_path().empty()) {
    fs::create_directories(t->dest.parent_path(), ec);
    if (ec) return Status::IOError(t->dest.parent_path().string(), ec.value());
  }
  t->out = std::fopen(PartPath(t->dest).c_str(), "wb");
  if (!t->out) return Status::IOError(PartPath(t->dest).string(), errno);
  if (t->tries == 0 && r.tries == 0) r.time_start = std::chrono::system_clock::now();
  t->tries++;
  r.tries = std::max(r.tries, t->tries);
  t->started = t->last_progress = Clock::now();
  if (!t->easy) t->easy = curl_easy_init();
  CURL* e = t->easy;
  curl_easy_reset(e);
  t->headers.Clear();
  t->errbuf[0] = 0;
  VERDI_RETURN_IF_ERROR(ConfigureTransfer(e, t->url, opts_.transfer, &t->headers));
  curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteCb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t->out);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_multi_add_handle(multi_, e);
  running_.push_back(t);
  if (t->tries == 1) Progress("localize: started " + t->url.Redacted());
  return Status::OK();
}

void Fetcher::FinishFile(Transfer* t, bool ok, Status* st) {
  if (t->out) {
    if (std::fclose(t->out) != 0 && ok) {
      ok = false;
      *st = Status::IOError(PartPath(t->dest).string(), errno);
    }
    t->out = nullptr;
  }
  std::error_code ec;
  if (ok) {
    fs::rename(PartPath(t->dest), t->dest, ec);
    if (ec) *st = Status::IOError("renaming " + PartPath(t->dest).string(), ec.value());
    return;
  }
  fs::remove(PartPath(t->dest), ec);
}

// A transfer is over: done, retried, expanded as a prefix, or failed.
Status Fetcher::Done(Transfer* t, CURLcode code) {
  long http = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http);
  curl_multi_remove_handle(multi_, t->easy);
  // 202 Accepted: the server is still preparing the file (HySDS raises, and
  // so tries again).
  if (code == CURLE_OK && http == 202 && t->url.IsHttp()) code = CURLE_HTTP_RETURNED_ERROR;
  running_.erase(std::find(running_.begin(), running_.end(), t));
  FetchResult& r = results_[t->index];
  Status fst;
  FinishFile(t, code == CURLE_OK, &fst);
  if (code == CURLE_OK && fst.ok()) {
    curl_off_t bytes = 0;
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
    r.bytes += static_cast<uint64_t>(bytes);
    double secs = std::chrono::duration<double>(Clock::now() - t->started).count();
    Progress("localize: finished " + t->url.Redacted() + ": " + HumanBytes(bytes) + " in " +
             Fixed(secs, 2) + " s (" + HumanBytes(secs > 0 ? bytes / secs : 0) + "/s)");
    if (--remaining_[t->index] == 0) r.time_end = std::chrono::system_clock::now();
    return Status::OK();
  }
  std::string why = fst.ok() ? Describe(code, http, *t) : fst.message();
  if (fst.ok() && t->may_be_prefix && code == CURLE_HTTP_RETURNED_ERROR && http == 404) {
    // No such object: maybe a "directory".
    t->may_be_prefix = false;
    bool any = false;
    VERDI_RETURN_IF_ERROR(Expand(t->url, t->index, PercentDecode(t->url.key) + "/", &any));
    if (any) {
      std::error_code ec;
      fs::remove(t->dest, ec);
      if (--remaining_[t->index] == 0) r.time_end = std::chrono::system_clock::now();
      return Status::OK();
    }
  }
  if (fst.ok() && IsTransientTransfer(code, http, TransferDirection::kDownload) &&
      t->tries < std::max(1, opts_.tries)) {
    double delay = std::min(60.0, opts_.backoff_seconds * (1 << std::min(t->tries - 1, 10)));
    Log("localize: " + t->url.Redacted() + ": " + why + " (try " + std::to_string(t->tries) + "/" +
        std::to_string(opts_.tries) + "), retrying in " + Fixed(delay, 1) + " s");
    t->next_start = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(delay * 1e6));
    waiting_.push_back(t);
    return Status::OK();
  }
  r.time_end = std::chrono::system_clock::now();
  std::string after = t->tries > 1 ? " (after " + std::to_string(t->tries) + " tries)" : "";
  std::string message = "downloading " + t->url.Redacted() + ": " + why + after;
  bool missing = fst.ok() && ((code == CURLE_HTTP_RETURNED_ERROR && http == 404) ||
                              code == CURLE_REMOTE_FILE_NOT_FOUND);
  r.status = missing ? Status::NotFound(message) : Status::Failed(message);
  return r.status;
}

void Fetcher::StopAll(const std::string& why) {
  for (Transfer* t : running_) {
    curl_multi_remove_handle(multi_, t->easy);
    Status ignored;
    FinishFile(t, false, &ignored);
  }
  for (auto* list : {&running_, &waiting_}) {
    for (Transfer* t : *list) {
      FetchResult& r = results_[t->index];
      if (r.status.ok()) r.status = Status::Failed(t->url.Redacted() + ": " + why);
      r.time_end = std::chrono::system_clock::now();
    }
    list->clear();
  }
  for (; next_new_ < net_.size(); ++next_new_) {
    FetchResult& r = results_[net_[next_new_].index];
    if (r.status.ok())
      r.status = Status::Failed(net_[next_new_].url.Redacted() + ": not started, " + why);
  }
}

void Fetcher::ReportProgress() {
  if (opts_.progress_seconds <= 0 || !opts_.progress) return;
  auto now = Clock::now();
  auto every = std::chrono::duration<double>(opts_.progress_seconds);
  for (Transfer* t : running_) {
    if (now - t->last_progress < every) continue;
    t->last_progress = now;
    curl_off_t got = 0, total = -1;
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total);
    double secs = std::chrono::duration<double>(now - t->started).count();
    std::string of =
        total > 0 ? " of " + HumanBytes(total) + " (" + Fixed(100.0 * got / total, 0) + " %)" : "";
    Progress("localize: " + t->url.Redacted() + ": " + HumanBytes(got) + of + " in " +
             Fixed(secs, 0) + " s (" + HumanBytes(secs > 0 ? got / secs : 0) + "/s)");
  }
}

Status Fetcher::Run() {
  // Parse everything first: a bad URL fails before any transfer.
  std::vector<Url> urls(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) {
    Status st = ParseUrl(items_[i].url, &urls[i]);
    if (!st.ok()) {
      results_[i].status = st;
      return st;
    }
  }
  // Local copies, one after the other.
  for (size_t i = 0; i < items_.size(); ++i) {
    if (urls[i].IsNetwork()) continue;
    if (Cancelled()) return Status::Failed("localizing cancelled");
    FetchResult& r = results_[i];
    r.time_start = std::chrono::system_clock::now();
    r.tries = 1;
    r.status = CopyLocal(urls[i], items_[i].dest, opts_, &r);
    r.time_end = std::chrono::system_clock::now();
    if (!r.status.ok()) return r.status;
  }
  // Network transfers; S3 prefixes listed first.
  for (size_t i = 0; i < items_.size(); ++i) {
    const Url& u = urls[i];
    if (!u.IsNetwork()) continue;
    if (u.IsPrefix()) {
      results_[i].time_start = std::chrono::system_clock::now();
      bool any = false;
      Status st = Expand(u, i, PercentDecode(u.key), &any);
      if (st.ok() && !any) st = Status::NotFound(u.Redacted() + ": no objects under this prefix");
      if (!st.ok()) {
        results_[i].status = st;
        return st;
      }
      continue;
    }
    Add(i, u, items_[i].dest, u.IsObjectStore());
  }
  if (net_.empty()) return Status::OK();
  multi_ = curl_multi_init();
  if (!multi_) return Status::Failed("curl_multi_init failed");
  const size_t parallel = static_cast<size_t>(std::max(1, opts_.parallel));
  Status failure;
  bool cancelled = false;
  for (;;) {
    if (Cancelled()) {
      cancelled = true;
      failure = Status::Failed("localizing cancelled");
      break;
    }
    auto now = Clock::now();
    // Retries whose time has come first, then new transfers.
    for (auto it = waiting_.begin();
         failure.ok() && it != waiting_.end() && running_.size() < parallel;) {
      if ((*it)->next_start <= now) {
        Transfer* t = *it;
        it = waiting_.erase(it);
        failure = Start(t);
      } else {
        ++it;
      }
    }
    while (failure.ok() && next_new_ < net_.size() && running_.size() < parallel) {
      failure = Start(&net_[next_new_++]);
    }
    if (!failure.ok()) break;
    if (running_.empty() && waiting_.empty() && next_new_ >= net_.size()) break;  // all done
    int still = 0;
    curl_multi_perform(multi_, &still);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      failure = Done(t, msg->data.result);
      if (!failure.ok()) break;
    }
    if (!failure.ok()) break;
    ReportProgress();
    // Sleep until curl has work, the next retry is due, or it is time to
    // look at the cancel flag again.
    int timeout_ms = opts_.cancelled ? 100 : 1000;
    if (!waiting_.empty()) {
      auto first = std::min_element(waiting_.begin(), waiting_.end(), [](Transfer* a, Transfer* b) {
        return a->next_start < b->next_start;
      });
      auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>((*first)->next_start - Clock::now())
              .count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, timeout_ms));
    }
    if (!running_.empty() || !waiting_.empty())
      curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
  }
  if (!failure.ok()) {
    Log("localize: " + failure.message());
    StopAll(cancelled ? "cancelled" : "stopped after another input failed");
    // A directory item that failed leaves nothing behind.
    for (size_t i = 0; i < items_.size(); ++i) {
      std::error_code ec;
      if (!results_[i].status.ok() && fs::is_directory(items_[i].dest, ec) &&
          urls[i].IsObjectStore())
        fs::remove_all(items_[i].dest, ec);
    }
  }
  return failure;
}

}  // namespace

Status FetchAll(const std::vector<FetchItem>& items, const FetchOptions& opts,
                std::vector<FetchResult>* results) {
  GlobalInit();
  results->assign(items.size(), FetchResult());
  Fetcher f(items, opts, results);
  return f.Run();
}

}  // namespace verdi::localize
