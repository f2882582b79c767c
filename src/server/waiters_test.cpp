#include "server/waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace brook::server {
namespace {

using namespace std::chrono_literals;

class WaitersTest : public ::testing::Test {
 protected:
  WaitersTest()
      : waiters_([this] { return bson::Timestamp::FromUint64(durable_.load()); }) {}
  ~WaitersTest() override {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  void StartThreads(int n = 2) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  template <typename T>
  std::future<T> Spawn(asio::awaitable<T> a) {
    return asio::co_spawn(asio::make_strand(io_), std::move(a), asio::use_future);
  }
  void Advance(uint64_t to) {
    durable_.store(to);
    waiters_.OnWatermarksMoved();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::atomic<uint64_t> durable_{10};
  Waiters waiters_;
  std::vector<std::thread> threads_;
};

TEST_F(WaitersTest, AlreadySatisfiedReturnsAtOnce) {
  StartThreads();
  auto f = Spawn(waiters_.WaitDurableAtLeast(bson::Timestamp::FromUint64(10), std::nullopt));
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(waiters_.size(), 0u);
}

TEST_F(WaitersTest, WokenWhenWatermarkMoves) {
  StartThreads();
  auto start = std::chrono::steady_clock::now();
  auto at_least = Spawn(waiters_.WaitDurableAtLeast(bson::Timestamp::FromUint64(20), std::nullopt));
  auto after = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(20),
                                               std::chrono::steady_clock::now() + 30s));
  while (waiters_.size() < 2) std::this_thread::sleep_for(1ms);
  Advance(15);  // not enough for either
  EXPECT_EQ(at_least.wait_for(50ms), std::future_status::timeout);
  Advance(20);  // enough for >= 20, not for > 20
  ASSERT_EQ(at_least.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(at_least.get());
  EXPECT_EQ(after.wait_for(50ms), std::future_status::timeout);
  Advance(21);
  ASSERT_EQ(after.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(after.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(waiters_.size(), 0u);
}

TEST_F(WaitersTest, InterruptEndsOnlyTheWaitsOnThatCursor) {
  StartThreads();
  auto flag7 = std::make_shared<std::atomic<bool>>(false);
  auto flag8 = std::make_shared<std::atomic<bool>>(false);
  auto on7 = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(20), std::chrono::steady_clock::now() + 30s,
                                             7, flag7));
  auto on8 = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(20), std::chrono::steady_clock::now() + 30s,
                                             8, flag8));
  while (waiters_.size() < 2) std::this_thread::sleep_for(1ms);
  flag7->store(true);
  waiters_.Interrupt(7);
  ASSERT_EQ(on7.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(on7.get());
  EXPECT_EQ(on8.wait_for(50ms), std::future_status::timeout);
  Advance(21);
  ASSERT_EQ(on8.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(on8.get());
}

TEST_F(WaitersTest, AFlagSetBeforeTheWaitEndsItAtOnce) {
  StartThreads();
  auto flag = std::make_shared<std::atomic<bool>>(true);
  auto f = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(20), std::chrono::steady_clock::now() + 30s,
                                           9, flag));
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
  EXPECT_EQ(waiters_.size(), 0u);
}

TEST_F(WaitersTest, ASignalledWaitIgnoresTheWatermarkAndWakesOnItsSignal) {
  StartThreads();
  auto signal = std::make_shared<std::atomic<bool>>(false);
  auto f = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(20), std::chrono::steady_clock::now() + 30s,
                                           5, nullptr, signal));
  while (waiters_.size() < 1) std::this_thread::sleep_for(1ms);
  Advance(30);  // the stream's tailer found nothing for it: stay asleep
  EXPECT_EQ(f.wait_for(50ms), std::future_status::timeout);
  signal->store(true);
  waiters_.OnSignalsRaised({});  // another stream's signals: not this waiter
  EXPECT_EQ(f.wait_for(50ms), std::future_status::timeout) << "the raised flag alone wakes nobody";
  waiters_.OnSignalsRaised({signal.get()});  // what the tailer runs after raising signals
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(waiters_.size(), 0u);
}

TEST_F(WaitersTest, DeadlinePasses) {
  StartThreads();
  auto start = std::chrono::steady_clock::now();
  auto f = Spawn(waiters_.WaitDurableAfter(bson::Timestamp::FromUint64(100),
                                           std::chrono::steady_clock::now() + 60ms));
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 60ms);
}

TEST_F(WaitersTest, ManyWaitersManyMoves) {
  StartThreads(4);
  std::vector<std::future<bool>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(Spawn(waiters_.WaitDurableAtLeast(bson::Timestamp::FromUint64(11 + i % 50),
                                                        std::chrono::steady_clock::now() + 30s)));
  }
  std::thread mover([this] {
    for (uint64_t d = 11; d <= 60; ++d) {
      Advance(d);
      std::this_thread::sleep_for(200us);
    }
  });
  mover.join();
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f.get());
  }
}

TEST_F(WaitersTest, SleepAndShutdown) {
  StartThreads();
  auto start = std::chrono::steady_clock::now();
  auto s = Spawn(waiters_.Sleep(40ms));
  ASSERT_EQ(s.wait_for(5s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);

  auto long_sleep = Spawn(waiters_.Sleep(1h));
  auto long_wait = Spawn(waiters_.WaitDurableAtLeast(bson::Timestamp::FromUint64(1000), std::nullopt));
  while (waiters_.size() < 2) std::this_thread::sleep_for(1ms);
  waiters_.Shutdown();
  ASSERT_EQ(long_sleep.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(long_wait.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(long_wait.get());
  // After shutdown, new waits return at once.
  auto late = Spawn(waiters_.Sleep(1h));
  EXPECT_EQ(late.wait_for(5s), std::future_status::ready);
}

}  // namespace
}  // namespace brook::server
