#include "common/worker_pool.h"

namespace syndb {

WorkerPool::WorkerPool(size_t threads, size_t max_queued, std::string name)
    : name_(std::move(name)), max_queued_(max_queued) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::submit(std::unique_ptr<PoolJob> job, Lane* lane) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      job->cancel(Error(ErrorCode::kClosed, name_ + " is shutting down"));
      return;
    }
    if (waiting_ >= max_queued_) {
      job->cancel(Error(ErrorCode::kLimitExceeded,
                        name_ + " is busy: " + std::to_string(waiting_) + " jobs are waiting for a thread"));
      return;
    }
    ++waiting_;
    if (lane && lane->busy) {
      lane->waiting.push_back(std::move(job));
      return;
    }
    if (lane) lane->busy = true;
    ready_.emplace_back(std::move(job), lane);
  }
  cv_.notify_one();
}

void WorkerPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopped_ || !ready_.empty(); });
    if (stopped_) return;  // stop() completes whatever never started
    auto [job, lane] = std::move(ready_.front());
    ready_.pop_front();
    --waiting_;
    ++running_;
    lock.unlock();
    job->run();
    job.reset();
    lock.lock();
    --running_;
    if (lane && stopped_) {
      std::vector<std::unique_ptr<PoolJob>> parked;
      for (auto& j : lane->waiting) parked.push_back(std::move(j));
      lane->waiting.clear();
      lane->busy = false;
      lock.unlock();
      for (auto& j : parked) j->cancel(Error(ErrorCode::kClosed, name_ + " is shutting down"));
      return;
    }
    if (lane) {
      if (lane->waiting.empty()) {
        lane->busy = false;
      } else {
        ready_.emplace_back(std::move(lane->waiting.front()), lane);
        lane->waiting.pop_front();
        cv_.notify_one();
      }
    }
  }
}

void WorkerPool::stop() {
  std::vector<std::unique_ptr<PoolJob>> never_started;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    // A lane's parked jobs are reachable through its job that is ready (here)
    // or running (work() completes them when that job ends).
    for (auto& [job, lane] : ready_) {
      never_started.push_back(std::move(job));
      if (!lane) continue;
      for (auto& j : lane->waiting) never_started.push_back(std::move(j));
      lane->waiting.clear();
      lane->busy = false;
    }
    ready_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& job : never_started) job->cancel(Error(ErrorCode::kClosed, name_ + " is shutting down"));
}

bool WorkerPool::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

size_t WorkerPool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

}  // namespace syndb
