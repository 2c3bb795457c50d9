#include "localize/retry.h"

#include <gtest/gtest.h>

namespace verdi::localize {
namespace {

constexpr TransferDirection kBoth[] = {TransferDirection::kDownload, TransferDirection::kUpload};

TEST(RetryTest, ServerSideHttpStatusesAreTransientEitherWay) {
  for (TransferDirection d : kBoth) {
    for (long http : {408L, 429L, 500L, 502L, 503L, 504L, 599L}) {
      EXPECT_TRUE(IsTransientTransfer(CURLE_HTTP_RETURNED_ERROR, http, d)) << http;
      EXPECT_TRUE(IsTransientTransfer(CURLE_OK, http, d)) << http;
    }
  }
}

TEST(RetryTest, ClientSideHttpStatusesAndSuccessAreFinal) {
  for (TransferDirection d : kBoth) {
    for (long http : {0L, 200L, 201L, 204L, 400L, 401L, 403L, 404L, 405L, 409L, 410L, 416L}) {
      EXPECT_FALSE(IsTransientTransfer(CURLE_HTTP_RETURNED_ERROR, http, d)) << http;
      EXPECT_FALSE(IsTransientTransfer(CURLE_OK, http, d)) << http;
    }
  }
}

TEST(RetryTest, AcceptedIsNotReadyYetForADownloadOnly) {
  EXPECT_TRUE(IsTransientTransfer(CURLE_HTTP_RETURNED_ERROR, 202, TransferDirection::kDownload));
  EXPECT_TRUE(IsTransientTransfer(CURLE_OK, 202, TransferDirection::kDownload));
  EXPECT_FALSE(IsTransientTransfer(CURLE_OK, 202, TransferDirection::kUpload));
}

TEST(RetryTest, APartialFileIsRetriedForADownloadOnly) {
  EXPECT_TRUE(IsTransientTransfer(CURLE_PARTIAL_FILE, 0, TransferDirection::kDownload));
  EXPECT_FALSE(IsTransientTransfer(CURLE_PARTIAL_FILE, 0, TransferDirection::kUpload));
}

TEST(RetryTest, NetworkFailuresAreTransientEitherWay) {
  for (TransferDirection d : kBoth) {
    for (CURLcode code :
         {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT,
          CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR,
          CURLE_FTP_ACCEPT_TIMEOUT, CURLE_FTP_CANT_GET_HOST, CURLE_FTP_WEIRD_SERVER_REPLY,
          CURLE_HTTP2, CURLE_HTTP2_STREAM}) {
      EXPECT_TRUE(IsTransientTransfer(code, 0, d)) << curl_easy_strerror(code);
      // The HTTP status of an earlier response does not change it.
      EXPECT_TRUE(IsTransientTransfer(code, 404, d)) << curl_easy_strerror(code);
    }
  }
}

TEST(RetryTest, LocalAndConfigurationFailuresAreFinal) {
  for (TransferDirection d : kBoth) {
    for (CURLcode code :
         {CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_REMOTE_ACCESS_DENIED,
          CURLE_REMOTE_FILE_NOT_FOUND, CURLE_LOGIN_DENIED, CURLE_WRITE_ERROR, CURLE_READ_ERROR,
          CURLE_ABORTED_BY_CALLBACK, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
          CURLE_SSL_CERTPROBLEM, CURLE_FILESIZE_EXCEEDED, CURLE_OUT_OF_MEMORY}) {
      EXPECT_FALSE(IsTransientTransfer(code, 0, d)) << curl_easy_strerror(code);
    }
  }
}

}  // namespace
}  // namespace verdi::localize
