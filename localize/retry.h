// The one rule for which failed transfers are worth trying again: downloads,
// uploads and S3 listings over libcurl all ask it.
#pragma once

#include <curl/curl.h>

namespace verdi::localize {

/// kDownload: fetching a file or listing a bucket. kUpload: the requests of
/// publishing (PUT, MKCOL, HEAD, DELETE).
enum class TransferDirection { kDownload, kUpload };

/// Whether a transfer that ended with `code` may succeed when tried again.
/// An HTTP status counts whether curl reported it as an error
/// (CURLE_HTTP_RETURNED_ERROR, with CURLOPT_FAILONERROR) or not (CURLE_OK):
/// 5xx, 408 and 429 are transient. So are the network failures: no
/// connection, name resolution, timeouts, broken sends and receives, empty
/// replies, TLS handshakes, HTTP/2 stream errors, FTP data connections.
///
/// Only downloads also retry:
/// - HTTP 202 Accepted: the server is still preparing the file (HySDS tries
///   again); to an upload, 202 is the server taking the file.
/// - CURLE_PARTIAL_FILE: a connection dropped mid-file; an upload sees it
///   only when the reply to a finished PUT is cut short.
bool IsTransientTransfer(CURLcode code, long http_code, TransferDirection direction);

}  // namespace verdi::localize
