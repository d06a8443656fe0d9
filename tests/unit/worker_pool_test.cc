// WorkerPool (common/worker_pool.h): results come back on the caller's
// executor, lanes serialise, the queue is bounded, stop() completes what
// never started.
#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "test_util.h"

namespace syndb {
namespace {

using p2p::Task;
using p2p::testing::run_all;

TEST(WorkerPoolTest, RunsOffTheCallerThreadAndResumesOnIt) {
  boost::asio::io_context io(1);
  WorkerPool pool(2, 16, "test pool");
  std::thread::id io_thread, job_thread, resumed_on;
  // (Named lambdas: a coroutine lambda's captures live in the lambda object,
  // which must outlive the coroutine.)
  auto body = [&]() -> Task<void> {
    io_thread = std::this_thread::get_id();
    auto r = co_await pool.run<Result<int>>([&] {
      job_thread = std::this_thread::get_id();
      return Result<int>(42);
    });
    resumed_on = std::this_thread::get_id();
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(*r, 42);
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(body());
  run_all(io, std::move(tasks));
  EXPECT_NE(job_thread, io_thread);
  EXPECT_EQ(resumed_on, io_thread);
}

TEST(WorkerPoolTest, ALaneRunsItsJobsOneAtATimeInOrder) {
  boost::asio::io_context io(1);
  WorkerPool pool(4, 64, "test pool");
  WorkerPool::Lane lane;
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<int> order;
  std::mutex mu;
  auto body = [&](int i) -> Task<void> {
    Status st = co_await pool.run<Status>(
        [&, i] {
          int now = ++inside;
          int prev = max_inside.load();
          while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));  // overlap if the lane let it
          {
            std::lock_guard lock(mu);
            order.push_back(i);
          }
          --inside;
          return ok_status();
        },
        &lane);
    EXPECT_TRUE(st.ok());
  };
  std::vector<Task<void>> tasks;
  for (int i = 0; i < 8; ++i) tasks.push_back(body(i));
  run_all(io, std::move(tasks));
  EXPECT_EQ(max_inside.load(), 1);
  ASSERT_EQ(order.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(order[i], i);
}

// One job on `pool` (lane optional); its result in *out. (Plain coroutines
// with parameters: a coroutine lambda's captures die with the lambda.)
Task<void> submit(WorkerPool* pool, WorkerPool::Lane* lane, std::function<Status()> fn, Status* out) {
  auto job = [fn] { return fn(); };
  *out = co_await pool->run<Status>(std::move(job), lane);
}

// Waits (polling every ms, at most 10 s) until `pool` runs a job.
Task<void> until_running(WorkerPool* pool) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool->running() == 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

TEST(WorkerPoolTest, AFullQueueRefusesAtOnceAsBusy) {
  boost::asio::io_context io(1);
  WorkerPool pool(1, 2, "test pool");
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::vector<Status> results(6, Error(ErrorCode::kInternal, "not done"));
  auto held = [gate] {
    gate.wait();
    return ok_status();
  };
  // Job 0 holds the only thread; then 2 fit the queue and 3 are refused.
  auto rest = [&]() -> Task<void> {
    co_await until_running(&pool);
    for (int i = 1; i < 6; ++i)
      boost::asio::co_spawn(io, submit(&pool, nullptr, held, &results[i]), boost::asio::detached);
    // Refusals come back at once, while job 0 still holds the thread.
    boost::asio::steady_timer timer(io);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto refused = [&] {
      return std::count_if(results.begin(), results.end(),
                           [](const Status& s) { return !s.ok() && s.error().code() == ErrorCode::kLimitExceeded; });
    };
    while (refused() < 3 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    EXPECT_EQ(refused(), 3);
    release.set_value();
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(submit(&pool, nullptr, held, &results[0]));
  tasks.push_back(rest());
  run_all(io, std::move(tasks));
  int ok = 0, busy = 0;
  for (const auto& st : results) {
    if (st.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(st.error().code(), ErrorCode::kLimitExceeded) << st.error().to_string();
      EXPECT_NE(st.error().message().find("busy"), std::string::npos);
      ++busy;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(busy, 3);
}

TEST(WorkerPoolTest, StopCompletesJobsThatNeverStartedAsClosed) {
  boost::asio::io_context io(1);
  WorkerPool pool(1, 16, "test pool");
  WorkerPool::Lane lane;
  std::promise<void> started, release;
  auto release_f = release.get_future().share();
  std::vector<Status> results(4, Error(ErrorCode::kInternal, "not done"));
  std::vector<Task<void>> tasks;
  tasks.push_back(submit(
      &pool, &lane,
      [&] {
        started.set_value();
        release_f.wait();
        return ok_status();
      },
      &results[0]));
  for (int i = 1; i < 3; ++i)
    tasks.push_back(submit(
        &pool, &lane, [] { return ok_status(); }, &results[i]));
  std::thread stopper([&] {
    started.get_future().wait();
    std::thread finisher([&] {
      // Job 0 ends only once stop() has begun (polled, with a deadline).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!pool.stopped() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      release.set_value();
    });
    pool.stop();  // waits for job 0, completes the parked ones
    finisher.join();
  });
  run_all(io, std::move(tasks));
  stopper.join();
  EXPECT_TRUE(results[0].ok());
  for (int i = 1; i < 3; ++i) {
    ASSERT_FALSE(results[i].ok());
    EXPECT_EQ(results[i].error().code(), ErrorCode::kClosed);
  }
  // After stop, a new job is refused at once.
  std::vector<Task<void>> after;
  after.push_back(submit(
      &pool, nullptr, [] { return ok_status(); }, &results[3]));
  run_all(io, std::move(after));
  ASSERT_FALSE(results[3].ok());
  EXPECT_EQ(results[3].error().code(), ErrorCode::kClosed);
}

}  // namespace
}  // namespace syndb
