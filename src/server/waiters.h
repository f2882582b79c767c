#pragma once
// Waiters: the one place where anything waits on a storage watermark or a timer
// (STYLE.md 7, after Redis's blocked.c).
//
// Who waits:
//   - j:true / w:"majority" writers and fsync: until durable >= the write's timestamp
//     (WaitDurableAtLeast), bounded by wtimeout when given;
//   - awaitData getMores (change streams, tailable cursors): until durable > the last
//     timestamp they saw, or their maxTimeMS deadline, or killCursors kills the cursor
//     they wait on (WaitDurableAfter with the cursor id as tag; Interrupt(tag)); a change
//     stream armed at the shared tailer's head waits on its own signal instead, which the
//     tailer raises only when an entry that may match it arrives (changestream/tailer.h);
//   - awaitable hello and failCommand's blockConnection: a plain delay (Sleep), cut short
//     at shutdown.
//
// Mechanism: a waiter is a coroutine suspended on its own asio::steady_timer, set to its
// deadline, on the connection's executor (one I/O thread, or a strand in tests). It
// registers itself in one list, then checks its condition, then waits; so no wake-up can
// fall between check and wait.
// The storage engine calls OnWatermarksMoved() from its sync thread once per WAL sync
// (never per commit); it runs the wake pass right there: read the durable watermark
// once and, for every waiter now satisfied, cancel its timer on its own executor (timers
// are not thread-safe, so they are only touched from their executor), with one post per
// executor for all the waiters the pass woke there.
// The woken coroutine re-checks its condition and returns. Commits never reach this
// code; the number of waiters only matters in the pass, on the sync thread. Waiters on
// a signal (change streams armed at the tailer's head) are kept apart, indexed by their
// signal: the tailer names the signals it raised (OnSignalsRaised) and only those
// waiters are looked at, so thousands of idle streams cost neither the watermark pass
// that j:true writers wait behind nor the tailer.
//
// Thread-safety: all methods are thread-safe. Coroutine methods must be awaited from a
// coroutine running on a serial executor (each connection runs on its own I/O thread).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bson/types.h"
#include "server/asio_fwd.h"

namespace brook::server {

class Waiters {
 public:
  using Clock = std::chrono::steady_clock;

  // `durable` reads the engine's durable watermark; called from any thread.
  explicit Waiters(std::function<bson::Timestamp()> durable);
  Waiters(const Waiters&) = delete;
  Waiters& operator=(const Waiters&) = delete;

  // For Engine::SetWatermarkListener: one short lock and a pass over the waiters that
  // wait on the watermark; any thread. Call it after `durable` moved.
  void OnWatermarksMoved();
  // For the change-stream tailer, after it raised `signals`: wakes the waiters on them
  // (and only those: a durable move alone never satisfies a signalled waiter).
  void OnSignalsRaised(const std::vector<const std::atomic<bool>*>& signals);

  // True once durable >= ts; false if the deadline (if any) passed or at shutdown.
  asio::awaitable<bool> WaitDurableAtLeast(bson::Timestamp ts,
                                           std::optional<Clock::time_point> deadline);
  // True once durable > after; false at the deadline, at shutdown, or once `cancelled`
  // is set (the setter then calls Interrupt(tag) to end a wait already under way).
  // With `signal`, true once the signal is raised instead (durable is not looked at); its
  // raiser then calls OnSignalsRaised() to run the wake pass.
  asio::awaitable<bool> WaitDurableAfter(bson::Timestamp after, Clock::time_point deadline,
                                         int64_t tag = 0,
                                         std::shared_ptr<const std::atomic<bool>> cancelled = nullptr,
                                         std::shared_ptr<const std::atomic<bool>> signal = nullptr);
  // Ends the waits tagged `tag` (their cursor was killed); any thread. 0 does nothing.
  void Interrupt(int64_t tag);
  // Waits `d` (returns early at shutdown).
  asio::awaitable<void> Sleep(std::chrono::milliseconds d);

  // Wakes every waiter; later waits return immediately.
  void Shutdown();
  bool shutting_down() const { return shutdown_.load(); }
  size_t size() const;

 private:
  struct Waiter;
  class WakeBatch;
  asio::awaitable<bool> Wait(std::optional<bson::Timestamp> target, bool strictly_after,
                             std::optional<Clock::time_point> deadline, int64_t tag,
                             std::shared_ptr<const std::atomic<bool>> cancelled,
                             std::shared_ptr<const std::atomic<bool>> signal = nullptr);
  void WakePass();
  // Marks `w` woken and adds it to `batch`, whose Post() then cancels its timer on its
  // executor. Call with mu_ held.
  void Wake(const std::shared_ptr<Waiter>& w, WakeBatch* batch);

  std::function<bson::Timestamp()> durable_;
  std::atomic<bool> shutdown_{false};
  mutable std::mutex mu_;
  std::list<std::shared_ptr<Waiter>> waiters_;    // on the durable watermark, or sleeps
  std::list<std::shared_ptr<Waiter>> signalled_;  // on a signal
  std::unordered_multimap<const std::atomic<bool>*, std::shared_ptr<Waiter>> by_signal_;
};

}  // namespace brook::server
