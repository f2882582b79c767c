#include "server/waiters.h"

namespace brook::server {

struct Waiters::Waiter {
  Waiter(asio::any_io_executor ex, std::optional<bson::Timestamp> t, bool strict, int64_t tag,
         std::shared_ptr<const std::atomic<bool>> signal)
      : timer(ex), target(t), strictly_after(strict), tag(tag), signal(std::move(signal)) {}
  asio::steady_timer timer;
  std::optional<bson::Timestamp> target;  // nullopt: a plain sleep
  bool strictly_after;
  int64_t tag;               // 0, or the cursor id an awaitData getMore waits on
  std::shared_ptr<const std::atomic<bool>> signal;  // set: waits for it, not for durable
  bool woken = false;        // guarded by Waiters::mu_
  bool interrupted = false;  // guarded by Waiters::mu_

  bool Satisfied(bson::Timestamp durable) const {
    if (!target) return false;
    if (signal) return signal->load();
    return strictly_after ? durable > *target : durable >= *target;
  }
};

Waiters::Waiters(std::function<bson::Timestamp()> durable) : durable_(std::move(durable)) {}

void Waiters::OnWatermarksMoved() {
  // The engine calls this once per WAL sync (not per commit), so the pass runs right
  // here: posting it first would add an io-thread hop to every j:true reply.
  WakePass();
}

// The waiters one pass wakes, grouped by executor: one post per I/O thread instead of one
// per waiter (a sync can satisfy every j:true writer at once, and an event can raise a
// thousand streams' signals).
class Waiters::WakeBatch {
 public:
  void Add(const std::shared_ptr<Waiter>& w) {
    auto ex = w->timer.get_executor();
    for (auto& [group_ex, group] : groups_) {
      if (group_ex == ex) {
        group.push_back(w);
        return;
      }
    }
    groups_.emplace_back(std::move(ex), std::vector<std::shared_ptr<Waiter>>{w});
  }
  // Called after mu_ is released, to keep the lock short.
  void Post() {
    for (auto& [ex, group] : groups_) {
      asio::post(ex, [group = std::move(group)] {
        for (const auto& w : group) w->timer.cancel();
      });
    }
    groups_.clear();
  }

 private:
  std::vector<std::pair<asio::any_io_executor, std::vector<std::shared_ptr<Waiter>>>> groups_;
};

void Waiters::Wake(const std::shared_ptr<Waiter>& w, WakeBatch* batch) {
  // Called with mu_ held. The cancel runs on the waiter's own executor.
  if (w->woken) return;
  w->woken = true;
  batch->Add(w);
}

void Waiters::WakePass() {
  bson::Timestamp durable = durable_();
  WakeBatch batch;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : waiters_) {
      if (w->Satisfied(durable)) Wake(w, &batch);
    }
  }
  batch.Post();
}

void Waiters::OnSignalsRaised(const std::vector<const std::atomic<bool>*>& signals) {
  WakeBatch batch;
  {
    std::lock_guard lock(mu_);
    for (const std::atomic<bool>* s : signals) {
      auto [first, last] = by_signal_.equal_range(s);
      for (auto it = first; it != last; ++it) {
        if (s->load()) Wake(it->second, &batch);
      }
    }
  }
  batch.Post();
}

void Waiters::Shutdown() {
  shutdown_.store(true);
  WakeBatch batch;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : waiters_) Wake(w, &batch);
    for (const auto& w : signalled_) Wake(w, &batch);
  }
  batch.Post();
}

void Waiters::Interrupt(int64_t tag) {
  if (tag == 0) return;
  WakeBatch batch;
  {
    std::lock_guard lock(mu_);
    for (auto* list : {&waiters_, &signalled_}) {
      for (const auto& w : *list) {
        if (w->tag != tag) continue;
        w->interrupted = true;
        Wake(w, &batch);
      }
    }
  }
  batch.Post();
}

size_t Waiters::size() const {
  std::lock_guard lock(mu_);
  return waiters_.size() + signalled_.size();
}

asio::awaitable<bool> Waiters::Wait(std::optional<bson::Timestamp> target, bool strictly_after,
                                    std::optional<Clock::time_point> deadline, int64_t tag,
                                    std::shared_ptr<const std::atomic<bool>> cancelled,
                                    std::shared_ptr<const std::atomic<bool>> signal) {
  auto ex = co_await asio::this_coro::executor;
  auto w = std::make_shared<Waiter>(ex, target, strictly_after, tag, std::move(signal));
  std::list<std::shared_ptr<Waiter>>::iterator pos;
  decltype(by_signal_)::iterator by_signal_pos;
  {
    std::lock_guard lock(mu_);
    auto& list = w->signal ? signalled_ : waiters_;
    pos = list.insert(list.end(), w);
    if (w->signal) by_signal_pos = by_signal_.emplace(w->signal.get(), w);
  }
  bool reached = false;
  for (;;) {
    // Checked after registering, so a move between this check and the wait below still
    // reaches us through the wake pass.
    if (target && w->Satisfied(durable_())) {
      reached = true;
      break;
    }
    if (shutdown_.load()) break;
    // Also checked after registering: whoever sets the flag then calls Interrupt(tag).
    if (cancelled && cancelled->load()) break;
    auto now = Clock::now();
    if (deadline && now >= *deadline) break;
    {
      std::lock_guard lock(mu_);
      if (w->interrupted) break;
      if (w->woken && !shutdown_.load()) {
        // A stale wake whose cancel already ran: re-arm.
        w->woken = false;
      }
    }
    // Bounded slices keep the expiry arithmetic far from overflow for "no deadline".
    auto until = deadline ? *deadline : now + std::chrono::hours(1);
    w->timer.expires_at(until);
    std::error_code ec;
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  {
    std::lock_guard lock(mu_);
    (w->signal ? signalled_ : waiters_).erase(pos);
    if (w->signal) by_signal_.erase(by_signal_pos);
  }
  co_return reached;
}

asio::awaitable<bool> Waiters::WaitDurableAtLeast(bson::Timestamp ts,
                                                  std::optional<Clock::time_point> deadline) {
  co_return co_await Wait(ts, false, deadline, 0, nullptr);
}

asio::awaitable<bool> Waiters::WaitDurableAfter(bson::Timestamp after, Clock::time_point deadline,
                                                int64_t tag,
                                                std::shared_ptr<const std::atomic<bool>> cancelled,
                                                std::shared_ptr<const std::atomic<bool>> signal) {
  co_return co_await Wait(after, true, deadline, tag, std::move(cancelled), std::move(signal));
}

asio::awaitable<void> Waiters::Sleep(std::chrono::milliseconds d) {
  co_await Wait(std::nullopt, false, Clock::now() + d, 0, nullptr);
}

}  // namespace brook::server
