// Where requests to stop a running job come from: signals sent to verdi in
// stand-alone mode, later revocations and shutdowns in the worker.
#pragma once

#include <deque>
#include <mutex>

namespace verdi {

/// A source of stop requests that a poll loop can wait on.
class Interrupts {
 public:
  virtual ~Interrupts() = default;
  /// A file descriptor that is readable while a request is pending.
  virtual int fd() const = 0;
  /// Takes the next pending request without blocking: the signal number to
  /// forward to the job, or 0 when there is none.
  virtual int Take() = 0;
};

/// Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGABRT in the calling thread (call it
/// before any thread starts, so all inherit the mask) and delivers them
/// through a signalfd instead. Children started by the supervisor get the
/// default mask back.
class SignalInterrupts : public Interrupts {
 public:
  SignalInterrupts();
  ~SignalInterrupts() override;
  int fd() const override { return fd_; }
  int Take() override;

 private:
  int fd_ = -1;
  /// Bit N set: signal N was already blocked before, so stays blocked after.
  unsigned was_blocked_ = 0;
};

/// Stop requests raised by another thread (the worker's connection thread
/// stopping a job slot for a shutdown or a revoke). Thread-safe.
class EventInterrupts : public Interrupts {
 public:
  EventInterrupts();
  ~EventInterrupts() override;
  int fd() const override { return fd_; }
  int Take() override;
  /// Queues a request to forward signal `sig`; wakes the waiting slot.
  void Raise(int sig);

 private:
  int fd_ = -1;  // an eventfd
  std::mutex mu_;
  std::deque<int> pending_;
};

}  // namespace verdi
