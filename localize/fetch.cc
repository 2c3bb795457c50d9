#include "localize/fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <system_error>

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

namespace {

Status CopyLocal(const Url& url, const fs::path& dest, FetchResult* r) {
  std::error_code ec;
  fs::path src = url.path;
  auto st = fs::status(src, ec);
  if (ec || !fs::exists(st)) return Status::Failed(url.Redacted() + ": file not found");
  if (!dest.parent_path().empty()) {
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return Status::IOError(dest.parent_path().string(), ec.value());
  }
  fs::path part = PartPath(dest);
  fs::remove_all(part, ec);
  if (fs::is_directory(st)) {
    fs::copy(src, part, fs::copy_options::recursive, ec);
  } else {
    fs::copy_file(src, part, ec);
  }
  if (!ec) fs::rename(part, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(part, ignored);
    return Status::IOError("copying " + url.Redacted() + " to " + dest.string(), ec.value());
  }
  r->bytes = TreeBytes(dest);
  return Status::OK();
}

struct Transfer {
  size_t index = 0;
  Url url;
  CURL* easy = nullptr;
  FILE* out = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Clock::time_point next_start;
  bool started_once = false;
};

size_t WriteCb(char* data, size_t size, size_t n, void* userp) {
  return std::fwrite(data, size, n, static_cast<FILE*>(userp));
}

bool Transient(CURLcode code, long http) {
  if (code == CURLE_HTTP_RETURNED_ERROR) return http >= 500 || http == 429 || http == 408;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_FTP_ACCEPT_TIMEOUT:
    case CURLE_FTP_CANT_GET_HOST:
    case CURLE_FTP_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::string Describe(CURLcode code, long http, const Transfer& t) {
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    std::string what = http == 404   ? "not found"
                       : http == 403 ? "forbidden"
                       : http == 401 ? "unauthorized"
                                     : "";
    return "HTTP " + std::to_string(http) + (what.empty() ? "" : " " + what);
  }
  if (code == CURLE_REMOTE_FILE_NOT_FOUND) return "not found";
  std::string msg = t.errbuf[0] ? t.errbuf : curl_easy_strerror(code);
  return Scrub(msg, t.url);
}

}  // namespace

Status FetchAll(const std::vector<FetchItem>& items, const FetchOptions& opts,
                std::vector<FetchResult>* results) {
  GlobalInit();
  results->assign(items.size(), FetchResult());
  std::vector<Transfer> net;
  net.reserve(items.size());
  // Parse everything first: a bad URL fails before any transfer.
  for (size_t i = 0; i < items.size(); ++i) {
    Url url;
    Status st = ParseUrl(items[i].url, &url);
    if (!st.ok()) {
      (*results)[i].status = st;
      return st;
    }
    if (url.IsNetwork()) {
      Transfer t;
      t.index = i;
      t.url = url;
      net.push_back(std::move(t));
    }
  }
  // Local copies, one after the other.
  for (size_t i = 0; i < items.size(); ++i) {
    Url url;
    (void)ParseUrl(items[i].url, &url);
    if (url.IsNetwork()) continue;
    FetchResult& r = (*results)[i];
    r.time_start = std::chrono::system_clock::now();
    r.tries = 1;
    r.status = CopyLocal(url, items[i].dest, &r);
    r.time_end = std::chrono::system_clock::now();
    if (!r.status.ok()) return r.status;
  }
  if (net.empty()) return Status::OK();

  CURLM* multi = curl_multi_init();
  if (!multi) return Status::Failed("curl_multi_init failed");
  const int parallel = std::max(1, opts.parallel);
  const int tries = std::max(1, opts.tries);
  size_t next_new = 0;             // next never-started transfer
  std::vector<Transfer*> waiting;  // to retry, at next_start
  std::vector<Transfer*> running;
  Status failure;
  size_t done = 0;

  auto finish_file = [&](Transfer* t, bool ok) -> Status {
    const fs::path& dest = items[t->index].dest;
    if (t->out) {
      if (std::fclose(t->out) != 0 && ok) ok = false;
      t->out = nullptr;
    }
    std::error_code ec;
    if (ok) {
      fs::rename(PartPath(dest), dest, ec);
      if (ec) return Status::IOError("renaming " + PartPath(dest).string(), ec.value());
      return Status::OK();
    }
    fs::remove(PartPath(dest), ec);
    return Status::OK();
  };

  auto start = [&](Transfer* t) -> Status {
    const fs::path& dest = items[t->index].dest;
    FetchResult& r = (*results)[t->index];
    std::error_code ec;
    if (!dest.parent_path().empty()) {
      fs::create_directories(dest.parent_path(), ec);
      if (ec) return Status::IOError(dest.parent_path().string(), ec.value());
    }
    t->out = std::fopen(PartPath(dest).c_str(), "wb");
    if (!t->out) return Status::IOError(PartPath(dest).string(), errno);
    if (!t->started_once) r.time_start = std::chrono::system_clock::now();
    t->started_once = true;
    r.tries++;
    if (!t->easy) t->easy = curl_easy_init();
    CURL* e = t->easy;
    curl_easy_reset(e);
    t->errbuf[0] = 0;
    curl_easy_setopt(e, CURLOPT_URL, t->url.original.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,ftp");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_seconds);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, opts.stall_bytes_per_second);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, opts.stall_seconds);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteCb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t->out);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "verdi/" VERDI_VERSION);
    if (opts.use_netrc) curl_easy_setopt(e, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
    if (!opts.verify_tls) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_multi_add_handle(multi, e);
    running.push_back(t);
    return Status::OK();
  };

  auto abort_all = [&]() {
    for (Transfer* t : running) {
      curl_multi_remove_handle(multi, t->easy);
      finish_file(t, false);
      FetchResult& r = (*results)[t->index];
      r.status = Status::Failed(t->url.Redacted() + ": stopped after another input failed");
      r.time_end = std::chrono::system_clock::now();
    }
    running.clear();
  };

  while (failure.ok() && done < net.size()) {
    auto now = Clock::now();
    // Retries whose time has come first, then new transfers.
    for (auto it = waiting.begin();
         it != waiting.end() && static_cast<int>(running.size()) < parallel;) {
      if ((*it)->next_start <= now) {
        Transfer* t = *it;
        it = waiting.erase(it);
        failure = start(t);
        if (!failure.ok()) break;
      } else {
        ++it;
      }
    }
    while (failure.ok() && next_new < net.size() && static_cast<int>(running.size()) < parallel) {
      failure = start(&net[next_new++]);
    }
    if (!failure.ok()) break;
    int still = 0;
    curl_multi_perform(multi, &still);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      CURLcode code = msg->data.result;
      long http = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http);
      curl_multi_remove_handle(multi, t->easy);
      running.erase(std::find(running.begin(), running.end(), t));
      FetchResult& r = (*results)[t->index];
      Status fst = finish_file(t, code == CURLE_OK);
      if (code == CURLE_OK && fst.ok()) {
        curl_off_t bytes = 0;
        curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
        r.bytes = static_cast<uint64_t>(bytes);
        r.time_end = std::chrono::system_clock::now();
        r.status = Status::OK();
        ++done;
        continue;
      }
      std::string why = fst.ok() ? Describe(code, http, *t) : fst.message();
      if (fst.ok() && Transient(code, http) && r.tries < tries) {
        double delay = std::min(60.0, opts.backoff_seconds * (1 << std::min(r.tries - 1, 10)));
        if (opts.log) {
          opts.log("localize: " + t->url.Redacted() + ": " + why + " (try " +
                   std::to_string(r.tries) + "/" + std::to_string(tries) + "), retrying in " +
                   std::to_string(delay) + " s");
        }
        t->next_start = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(delay * 1e6));
        waiting.push_back(t);
        continue;
      }
      r.time_end = std::chrono::system_clock::now();
      std::string after = r.tries > 1 ? " (after " + std::to_string(r.tries) + " tries)" : "";
      r.status = Status::Failed("downloading " + t->url.Redacted() + ": " + why + after);
      failure = r.status;
      ++done;
      break;
    }
    if (!failure.ok() || done == net.size()) break;
    // Sleep until curl has work or the next retry is due.
    int timeout_ms = 1000;
    if (running.empty() && !waiting.empty()) {
      auto first = std::min_element(waiting.begin(), waiting.end(), [](Transfer* a, Transfer* b) {
        return a->next_start < b->next_start;
      });
      auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>((*first)->next_start - Clock::now())
              .count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
    } else if (!waiting.empty()) {
      timeout_ms = 100;
    }
    curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
  }
  if (!failure.ok()) {
    abort_all();
    for (Transfer* t : waiting) {
      FetchResult& r = (*results)[t->index];
      r.status = Status::Failed(t->url.Redacted() + ": stopped after another input failed");
    }
    for (; next_new < net.size(); ++next_new) {
      (*results)[net[next_new].index].status =
          Status::Failed(net[next_new].url.Redacted() + ": not started, another input failed");
    }
  }
  for (Transfer& t : net) {
    if (t.easy) curl_easy_cleanup(t.easy);
  }
  curl_multi_cleanup(multi);
  return failure;
}

}  // namespace verdi::localize
