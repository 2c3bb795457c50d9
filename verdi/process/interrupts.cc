#include "verdi/process/interrupts.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/log.h"

namespace verdi {
namespace {

// SIGABRT too (HySDS handles it): glibc's abort() unblocks it before raising, so
// verdi's own aborts still abort.
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT};

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) sigaddset(&set, sig);
  return set;
}

}  // namespace

// The previous mask is not kept whole: the destructor unblocks only those of
// the four signals that were not blocked before, so a change made to the mask
// for other signals in between is left alone. A signal still pending then
// (not taken) is delivered with its usual disposition when it is unblocked.
SignalInterrupts::SignalInterrupts() {
  const sigset_t set = StopSignals();
  sigset_t old;
  sigemptyset(&old);
  int err = pthread_sigmask(SIG_BLOCK, &set, &old);
  if (err != 0) {
    LogError("cannot block the stop signals: {}", std::strerror(err));
    was_blocked_ = ~0u;  // nothing to unblock
    return;
  }
  for (int sig : kSignals) {
    if (sigismember(&old, sig) == 1) was_blocked_ |= 1u << sig;
  }
  fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) LogError("signalfd: {}", std::strerror(errno));
}

SignalInterrupts::~SignalInterrupts() {
  if (fd_ >= 0) close(fd_);
  sigset_t unblock;
  sigemptyset(&unblock);
  for (int sig : kSignals) {
    if ((was_blocked_ & (1u << sig)) == 0) sigaddset(&unblock, sig);
  }
  pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
}

int SignalInterrupts::Take() {
  if (fd_ < 0) return 0;
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = read(fd_, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) LogWarning("reading the signalfd: {}", std::strerror(errno));
    return 0;
  }
}

EventInterrupts::EventInterrupts() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

EventInterrupts::~EventInterrupts() {
  if (fd_ >= 0) close(fd_);
}

void EventInterrupts::Raise(int sig) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(sig);
  }
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof one);
  (void)n;  // the counter cannot overflow with this few writes
}

int EventInterrupts::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty()) return 0;
  int sig = pending_.front();
  pending_.pop_front();
  if (pending_.empty()) {
    uint64_t count;
    ssize_t n = read(fd_, &count, sizeof count);  // not readable until the next Raise
    (void)n;
  }
  return sig;
}

}  // namespace verdi
