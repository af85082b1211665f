#include "agent/check_runner.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <utility>

#include "agent/probe.h"

namespace sider::agent {
namespace {

using internal::Strand;
using std::chrono::nanoseconds;
using structs::CheckType;

constexpr nanoseconds kDefaultNetTimeout = std::chrono::seconds(10);
constexpr nanoseconds kDefaultCmdTimeout = std::chrono::seconds(30);

bool IsRunnable(CheckType t) {
  return t == CheckType::kHttp || t == CheckType::kTcp || t == CheckType::kCmd;
}

// "10s", "200ms", "1.5s": how Go prints the durations Consul shows.
std::string FormatDuration(nanoseconds d) {
  using namespace std::chrono;
  char buf[32];
  if (d % seconds(1) == nanoseconds(0)) {
    std::snprintf(buf, sizeof buf, "%llds",
                  static_cast<long long>(duration_cast<seconds>(d).count()));
  } else if (d < seconds(1) && d % milliseconds(1) == nanoseconds(0)) {
    std::snprintf(
        buf, sizeof buf, "%lldms",
        static_cast<long long>(duration_cast<milliseconds>(d).count()));
  } else {
    std::snprintf(buf, sizeof buf, "%gs",
                  duration_cast<duration<double>>(d).count());
  }
  return buf;
}

}  // namespace

// What in-flight runs share with the runner: the report callback and the
// concurrency limit. Outlives the runner while runs finish.
struct CheckRunner::Core : std::enable_shared_from_this<Core> {
  // Holding one means one probe may execute. Dropping it lets the next
  // waiter go.
  struct Slot {
    explicit Slot(std::shared_ptr<Core> c) : core(std::move(c)) {}
    ~Slot() { core->Release(); }
    const std::shared_ptr<Core> core;
  };
  using Waiter = std::function<void(std::shared_ptr<Slot>)>;

  Core(Report r, size_t max) : report(std::move(r)), max_running(max) {}

  void Acquire(Waiter w) SIDER_EXCLUDES(limit_mu) {
    {
      WriterLock l(&limit_mu);
      if (running >= max_running) {
        waiting.push_back(std::move(w));
        return;
      }
      ++running;
    }
    w(std::make_shared<Slot>(shared_from_this()));
  }

  void Release() SIDER_EXCLUDES(limit_mu) {
    Waiter next;
    {
      WriterLock l(&limit_mu);
      if (waiting.empty()) {
        --running;
        return;
      }
      next = std::move(waiting.front());
      waiting.pop_front();
    }
    next(std::make_shared<Slot>(shared_from_this()));
  }

  void Deliver(CheckResult r) SIDER_EXCLUDES(report_mu) {
    ReaderLock l(&report_mu);
    if (!stopped) report(std::move(r));
  }

  const Report report;
  const size_t max_running;

  Mutex report_mu;  // Shared while reporting; Stop() takes it exclusively.
  bool stopped SIDER_GUARDED_BY(report_mu) = false;

  Mutex limit_mu;
  size_t running SIDER_GUARDED_BY(limit_mu) = 0;
  std::deque<Waiter> waiting SIDER_GUARDED_BY(limit_mu);
};

// One check's schedule. Everything but the constructor runs on `strand`.
struct CheckRunner::Task : std::enable_shared_from_this<Task> {
  Task(std::shared_ptr<Core> c, Clock& clk, Strand s, structs::Check chk,
       nanoseconds iv)
      : core(std::move(c)),
        clock(clk),
        strand(std::move(s)),
        check(std::move(chk)),
        interval(iv) {
    const nanoseconds configured(check.definition.timeout_ns);
    timeout = configured > nanoseconds(0)     ? configured
              : check.type == CheckType::kCmd ? kDefaultCmdTimeout
                                              : kDefaultNetTimeout;
  }

  void Start(nanoseconds delay) {
    asio::post(strand,
               [self = shared_from_this(), delay] { self->ScheduleIn(delay); });
  }

  void Cancel() {
    asio::post(strand, [self = shared_from_this()] {
      self->cancelled = true;
      self->alarm.reset();
      if (self->probe) self->probe->Cancel("check removed");
    });
  }

  void ScheduleIn(nanoseconds delay) {
    if (cancelled) return;
    alarm =
        clock.SetAlarm(clock.Now() + delay, strand, [weak = weak_from_this()] {
          if (auto t = weak.lock()) t->WaitForSlot();
        });
  }

  void WaitForSlot() {
    if (cancelled) return;
    core->Acquire([weak = weak_from_this()](std::shared_ptr<Core::Slot> slot) {
      // A task gone meanwhile drops the slot here, freeing it.
      if (auto t = weak.lock()) {
        asio::post(t->strand, [t, slot = std::move(slot)]() mutable {
          t->Run(std::move(slot));
        });
      }
    });
  }

  void Run(std::shared_ptr<Core::Slot> slot) {
    if (cancelled) return;
    ++run_id;
    // A cancelled timer whose handler was already queued still runs it, so
    // the timeout names the run it belongs to.
    alarm = clock.SetAlarm(clock.Now() + timeout, strand,
                           [weak = weak_from_this(), id = run_id] {
                             auto t = weak.lock();
                             if (t && t->run_id == id) t->OnTimeout();
                           });
    // The slot rides with `done`: freed when the probe finishes, whatever
    // became of this task.
    internal::ProbeDone done = [weak = weak_from_this(),
                                slot = std::move(slot)](structs::HealthStatus s,
                                                        std::string out) {
      if (auto t = weak.lock()) t->OnDone(s, std::move(out));
    };
    const auto& def = check.definition;
    switch (check.type) {
      case CheckType::kHttp:
        probe = internal::StartHttpProbe(strand, def, std::move(done));
        break;
      case CheckType::kTcp:
        probe = internal::StartTcpProbe(strand, def, std::move(done));
        break;
      case CheckType::kCmd:
        probe = internal::StartCmdProbe(strand, def, std::move(done));
        break;
      default:  // Upsert() admits only the three above.
        break;
    }
  }

  void OnTimeout() {
    if (!probe) return;
    probe->Cancel(check.type == CheckType::kCmd
                      ? "Timed out (" + FormatDuration(timeout) +
                            ") running check"
                      : "timed out after " + FormatDuration(timeout));
  }

  void OnDone(structs::HealthStatus s, std::string out) {
    probe.reset();
    alarm.reset();
    if (cancelled) return;
    core->Deliver(CheckResult{check.check_id, s, std::move(out)});
    ScheduleIn(interval);
  }

  const std::shared_ptr<Core> core;
  Clock& clock;
  const Strand strand;
  const structs::Check check;
  const nanoseconds interval;
  nanoseconds timeout;

  // Strand only.
  bool cancelled = false;
  uint64_t run_id = 0;
  std::unique_ptr<Clock::Alarm> alarm;  // Next run, or the run's timeout.
  std::shared_ptr<internal::Probe> probe;
};

CheckRunner::CheckRunner(asio::io_context& io, Clock& clock, Report report)
    : CheckRunner(io, clock, std::move(report), Options()) {}

CheckRunner::CheckRunner(asio::io_context& io, Clock& clock, Report report,
                         Options options)
    : io_(io),
      clock_(clock),
      options_(options),
      core_(std::make_shared<Core>(
          std::move(report), std::max<size_t>(options.max_concurrent, 1))),
      rng_(std::random_device{}()) {}

CheckRunner::~CheckRunner() { Stop(); }

void CheckRunner::Upsert(const structs::Check& check) {
  WriterLock l(&mu_);
  if (stopped_) return;
  if (auto it = tasks_.find(check.check_id); it != tasks_.end()) {
    // Anti-entropy re-registers the same checks over and over; restarting
    // them each time would reset their schedules (and stagger) forever.
    if (it->second->check.type == check.type &&
        it->second->check.definition == check.definition)
      return;
    it->second->Cancel();
    tasks_.erase(it);
  }
  if (!IsRunnable(check.type)) return;
  const nanoseconds interval = std::max(
      nanoseconds(check.definition.interval_ns), options_.min_interval);
  const nanoseconds max_stagger =
      std::min(interval, options_.max_initial_stagger);
  nanoseconds delay(0);
  if (max_stagger > nanoseconds(0)) {
    std::uniform_int_distribution<int64_t> dist(0, max_stagger.count());
    delay = nanoseconds(dist(rng_));
  }
  auto task = std::make_shared<Task>(core_, clock_, asio::make_strand(io_),
                                     check, interval);
  tasks_.emplace(check.check_id, task);
  task->Start(delay);
}

void CheckRunner::Remove(const std::string& check_id) {
  WriterLock l(&mu_);
  auto it = tasks_.find(check_id);
  if (it == tasks_.end()) return;
  it->second->Cancel();
  tasks_.erase(it);
}

void CheckRunner::Stop() {
  std::map<std::string, std::shared_ptr<Task>> tasks;
  {
    WriterLock l(&mu_);
    stopped_ = true;
    tasks.swap(tasks_);
  }
  for (auto& [id, t] : tasks) t->Cancel();
  // Waits out any Report running on another thread.
  WriterLock l(&core_->report_mu);
  core_->stopped = true;
}

size_t CheckRunner::size() const {
  ReaderLock l(&mu_);
  return tasks_.size();
}

}  // namespace sider::agent
