#include "localize/retry.h"

namespace verdi::localize {
namespace {

bool IsTransientHttp(long http_code, TransferDirection direction) {
  if (http_code == 202) return direction == TransferDirection::kDownload;
  return http_code >= 500 || http_code == 408 || http_code == 429;
}

bool IsTransientNetwork(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
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

}  // namespace

bool IsTransientTransfer(CURLcode code, long http_code, TransferDirection direction) {
  if (code == CURLE_OK || code == CURLE_HTTP_RETURNED_ERROR)
    return IsTransientHttp(http_code, direction);
  if (code == CURLE_PARTIAL_FILE) return direction == TransferDirection::kDownload;
  return IsTransientNetwork(code);
}

}  // namespace verdi::localize
