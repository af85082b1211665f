// Command probe: posix_spawnp in a new process group, output through a
// pipe read by Asio, exit observed through a pidfd so that no io thread
// ever blocks in waitpid.
// probe.h brings base/asio.h, which must precede any other Asio header.
#include "agent/probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>


extern char** environ;

namespace sider::agent::internal {
namespace {

using boost::system::error_code;
using structs::HealthStatus;

class CmdProbe final : public Probe,
                       public std::enable_shared_from_this<CmdProbe> {
 public:
  CmdProbe(const Strand& strand, std::vector<std::string> args, ProbeDone done)
      : strand_(strand),
        args_(std::move(args)),
        pipe_(strand),
        pidfd_(strand),
        done_(std::move(done)) {}

  // A run abandoned with its io_context (handlers destroyed unrun) must not
  // leave a process or a zombie behind.
  ~CmdProbe() override {
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void Start() {
    if (std::string err = Spawn(); !err.empty()) {
      asio::post(strand_, [self = shared_from_this(), err] {
        self->Finish(HealthStatus::kCritical, err);
      });
      return;
    }
    Read();
    // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the raw syscall is
    // simpler than working around it.
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (fd >= 0) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      pidfd_.assign(fd);
      pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this()](error_code) {
                          self->Reap(/*block=*/false);
                        });
    }
    // Without pidfd (kernel < 5.3) the child is reaped when the pipe
    // closes; see Read().
  }

  void Cancel(const std::string& reason) override {
    if (!done_ || !reason_.empty()) return;
    reason_ = reason;
    if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGKILL);
    // A grandchild that left the group could hold the pipe open forever.
    error_code ignored;
    pipe_.close(ignored);
  }

 private:
  std::string Spawn() {
    if (args_.empty()) return "no command given (Args is empty)";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return std::string("pipe: ") + std::strerror(errno);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    // Own process group, so a timeout kills the whole tree; default signal
    // mask and SIGPIPE, whatever the agent's threads set for themselves.
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc =
        ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return "Failed to run " + args_[0] + ": " + std::strerror(rc);
    }
    pid_ = pid;
    pipe_.assign(fds[0]);
    return "";
  }

  void Read() {
    pipe_.async_read_some(asio::buffer(chunk_),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            self->Append(n);
                            if (!ec) return self->Read();
                            self->pipe_closed_ = true;
                            if (!self->pidfd_.is_open())
                              self->Reap(/*block=*/true);
                            self->MaybeFinish();
                          });
  }

  // Keeps the last kMaxOutput bytes, as Consul's circular buffer does.
  void Append(size_t n) {
    output_.append(chunk_.data(), n);
    if (output_.size() > kMaxOutput)
      output_.erase(0, output_.size() - kMaxOutput);
  }

  void Reap(bool block) {
    if (reaped_) return;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == 0) {  // Spurious wakeup: wait again.
      pidfd_.async_wait(
          asio::posix::stream_descriptor::wait_read,
          [self = shared_from_this()](error_code) { self->Reap(false); });
      return;
    }
    reaped_ = true;
    status_ = r == pid_ ? status : -1;  // -1: lost (SIGCHLD ignored?).
    error_code ignored;
    pidfd_.close(ignored);
    MaybeFinish();
  }

  void MaybeFinish() {
    if (!reaped_ || !pipe_closed_) return;
    if (!reason_.empty()) {
      return Finish(HealthStatus::kCritical, reason_ + ". Output: " + output_);
    }
    HealthStatus s = HealthStatus::kCritical;
    if (status_ != -1 && WIFEXITED(status_)) {
      const int code = WEXITSTATUS(status_);
      s = code == 0   ? HealthStatus::kPassing
          : code == 1 ? HealthStatus::kWarning
                      : HealthStatus::kCritical;
    }
    Finish(s, std::move(output_));
  }

  void Finish(HealthStatus s, std::string out) {
    if (done_) std::exchange(done_, nullptr)(s, std::move(out));
  }

  Strand strand_;
  std::vector<std::string> args_;
  asio::posix::stream_descriptor pipe_;
  asio::posix::stream_descriptor pidfd_;
  ProbeDone done_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool pipe_closed_ = false;
  int status_ = -1;
  std::string reason_;
  std::array<char, 1024> chunk_{};
  std::string output_;
};

}  // namespace

std::shared_ptr<Probe> StartCmdProbe(const Strand& strand,
                                     const structs::CheckDefinition& def,
                                     ProbeDone done) {
  auto p = std::make_shared<CmdProbe>(strand, def.args, std::move(done));
  p->Start();
  return p;
}

}  // namespace sider::agent::internal
