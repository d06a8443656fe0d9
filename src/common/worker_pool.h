// WorkerPool: a fixed set of threads for blocking work — warehouse (DuckDB)
// and metastore (SQLite) calls — that coroutines running on a network
// io_context `co_await`, so that no network thread ever blocks on a database
// (issue 12). One concurrency model: the network side stays single-threaded
// coroutines; the pool is the only place where they hand work to threads.
//
//   auto n = co_await pool.run<Result<int64_t>>([&w] { return count(w); });
//
// The coroutine resumes on its own executor with the job's result. GCC 12
// destroys temporaries of a co_await expression twice: pass a named lambda
// (`auto job = [..]{..}; co_await pool.run<R>(std::move(job));`) whenever
// its captures have destructors. Bounded:
// at most `max_queued` jobs wait for a thread; one more fails at once with
// kLimitExceeded ("busy"), so a peer that sends requests faster than the
// database answers grows no queue. stop() (and the destructor) lets running
// jobs finish, joins the threads, and completes every job that never started
// with kClosed (posted to the waiting coroutine's executor: stop the pool
// before destroying the io_context it posts to). Ownership rule: whatever a
// job's function references must outlive the pool's stop(); owners stop the
// pool before destroying the services and stores its jobs use.
//
// Lanes: jobs submitted with the same Lane run one at a time, in order (for
// state that is not thread-safe, such as one DuckDB connection); jobs on
// different lanes, or on none, run in parallel.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace syndb {

// One job as the pool sees it (WorkerPool::run makes them).
struct PoolJob {
  virtual ~PoolJob() = default;
  virtual void run() = 0;
  virtual void cancel(const Error& why) = 0;
};

class WorkerPool {
 public:
  // A serial lane: jobs on it never overlap. Cheap; create one per resource.
  class Lane {
   public:
    Lane() = default;

   private:
    friend class WorkerPool;
    bool busy = false;                             // guarded by the pool's mutex
    std::deque<std::unique_ptr<PoolJob>> waiting;  // ditto
  };

  // threads ≥ 1; max_queued: jobs waiting for a thread (lanes included).
  WorkerPool(size_t threads, size_t max_queued, std::string name);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn() on a pool thread (one at a time with other jobs of `lane`,
  // when given) and resumes the caller on its executor with fn's result.
  // R is a Result<T> or Status. Errors without running fn: kLimitExceeded
  // when max_queued jobs already wait, kClosed after stop().
  template <typename R, typename F>
  boost::asio::awaitable<R> run(F fn, Lane* lane = nullptr);

  void stop();
  bool stopped() const;
  size_t threads() const { return threads_.size(); }
  // Jobs waiting for a thread and jobs running, for /metrics.
  size_t queued() const;
  size_t running() const;
  const std::string& name() const { return name_; }

 private:
  template <typename R, typename F, typename Handler>
  struct Job;

  // Queues the job, or completes it at once with kLimitExceeded / kClosed.
  void submit(std::unique_ptr<PoolJob> job, Lane* lane);
  void work();

  std::string name_;
  size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::unique_ptr<PoolJob>, Lane*>> ready_;
  size_t waiting_ = 0;  // ready_ plus jobs parked on busy lanes
  size_t running_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

template <typename R, typename F, typename Handler>
struct WorkerPool::Job : PoolJob {
  Job(Handler h, F f, boost::asio::any_io_executor ex)
      : handler(std::move(h)), fn(std::move(f)),
        executor(boost::asio::prefer(std::move(ex), boost::asio::execution::outstanding_work.tracked)) {}
  void run() override { finish(fn()); }
  void cancel(const Error& why) override { finish(R(why)); }
  void finish(R result) {
    // Resume the coroutine on its own executor, never on the pool thread.
    boost::asio::post(executor,
                      [h = std::move(handler), r = std::move(result)]() mutable { std::move(h)(std::move(r)); });
  }
  Handler handler;
  F fn;
  boost::asio::any_io_executor executor;  // keeps the io_context's run() waiting for the answer
};

template <typename R, typename F>
boost::asio::awaitable<R> WorkerPool::run(F fn, Lane* lane) {
  // Not a coroutine itself: the initiation runs when the caller co_awaits,
  // and the handler's executor is the caller's.
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      [this, lane](auto handler, F f) {
        auto ex = boost::asio::get_associated_executor(handler);
        submit(std::make_unique<Job<R, F, decltype(handler)>>(std::move(handler), std::move(f), std::move(ex)), lane);
      },
      boost::asio::use_awaitable, std::move(fn));
}

}  // namespace syndb
