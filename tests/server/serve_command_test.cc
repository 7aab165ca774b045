// `softdpu serve` as a process: serves the bundled models, answers over HTTP, and on SIGTERM
// turns unready, drains and exits 0.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "server/server_test_util.h"

namespace softdpu::server::testing {
namespace {

// `softdpu serve` started on loopback with one HTTP thread and the given extra flags; stderr is
// read until the server says it is ready or the process closes it.
struct ServeProcess {
  pid_t pid = -1;
  int err_fd = -1;
  std::string log;
  int port = 0;

  explicit ServeProcess(const std::vector<std::string>& extra) {
    const std::string bin = std::string(SOFTDPU_BINARY_DIR) + "/softdpu";
    std::vector<std::string> args = {
        bin, "serve",          "--address", "127.0.0.1",      "--http-port",
        "0", "--metrics-port", "-1",        "--http-threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    // argv is built before fork: the child of a multi-threaded process must not allocate.
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int err_pipe[2];
    if (pipe(err_pipe) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(err_pipe[1], 2);
      close(err_pipe[0]);
      if (chdir(kRoot.c_str()) != 0) _exit(127);  // the bundled models/ are found from the cwd
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(err_pipe[1]);
    err_fd = err_pipe[0];
    if (pid < 0) return;
    // Read stderr until "ready (", the child closes it, or 20 s pass (poll, so that a silent
    // live child cannot block the test).
    char buf[512];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (log.find("ready (") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{err_fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      ssize_t n = read(err_fd, buf, sizeof buf);
      if (n <= 0) break;
      log.append(buf, static_cast<size_t>(n));
    }
    std::smatch m;
    if (std::regex_search(log, m, std::regex("HTTP/REST on 127.0.0.1:(\\d+)")))
      port = std::stoi(m[1]);
  }

  // A failed ASSERT leaves the server running: kill it, so no test leaves a process behind.
  ~ServeProcess() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (err_fd >= 0) close(err_fd);
  }

  // Waits for the exit (after SIGTERM when `terminate`), reads the rest of stderr; returns the
  // wait status.
  int finish(bool terminate) {
    if (terminate) kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    char buf[512];
    for (ssize_t n; (n = read(err_fd, buf, sizeof buf)) > 0;)
      log.append(buf, static_cast<size_t>(n));
    close(err_fd);
    err_fd = -1;
    return status;
  }
};

void expect_fashion_cnn_answers(int port) {
  TestClient c(port);
  EXPECT_EQ(c.get("/v2/health/ready").status, 200);
  Tensor x = read_npy(kRoot + "/tests/data/models/fashion_cnn/input1.npy");
  auto r = c.post("/v2/models/fashion_cnn/infer",
                  json_infer_body("input", x.shape(), x.data_as<float>()));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(ServeCommand, ServesBundledModelsAndExitsCleanlyOnSigterm) {
  ServeProcess s({});
  ASSERT_GT(s.pid, 0);
  ASSERT_NE(s.port, 0) << s.log;
  EXPECT_NE(s.log.find("model fashion_mlp version 1: READY"), std::string::npos) << s.log;
  expect_fashion_cnn_answers(s.port);
  const int status = s.finish(true);
  EXPECT_TRUE(WIFEXITED(status)) << s.log;
  EXPECT_EQ(WEXITSTATUS(status), 0) << s.log;
  EXPECT_NE(s.log.find("draining"), std::string::npos) << s.log;
}

// Whether this test may use SCHED_FIFO decides the right answer, so ask the kernel first (in a
// child, so the test itself keeps its policy). Allowed: the kernel must report SCHED_FIFO at
// the asked priority for every thread of the server. Refused: the server must exit non-zero
// naming the missing capability, not serve at the default policy.
TEST(ServeCommand, RealtimePriorityReachesEveryThreadOrIsRefusedWithTheReason) {
  pid_t probe = fork();
  ASSERT_GE(probe, 0);
  if (probe == 0) {
    sched_param p{};
    p.sched_priority = 7;  // what the server asks for: RLIMIT_RTPRIO may allow less
    _exit(sched_setscheduler(0, SCHED_FIFO, &p) == 0 ? 0 : 1);
  }
  int probe_status = 0;
  ASSERT_EQ(waitpid(probe, &probe_status, 0), probe);
  const bool allowed = WIFEXITED(probe_status) && WEXITSTATUS(probe_status) == 0;

  ServeProcess s({"--realtime-priority", "7"});
  ASSERT_GT(s.pid, 0);
  if (!allowed) {
    EXPECT_EQ(s.port, 0) << "served although SCHED_FIFO was refused:\n" << s.log;
    const int status = s.finish(/*terminate=*/s.port != 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << s.log;
    EXPECT_NE(s.log.find("CAP_SYS_NICE"), std::string::npos) << s.log;
    return;
  }
  ASSERT_NE(s.port, 0) << s.log;
  expect_fashion_cnn_answers(s.port);
  int threads = 0;
  const std::string tasks = "/proc/" + std::to_string(s.pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(tasks)) {
    const pid_t tid = std::stoi(t.path().filename().string());
    sched_param p{};
    const int policy = sched_getscheduler(tid);
    if (policy < 0 || sched_getparam(tid, &p) != 0) continue;  // the thread has just exited
    ++threads;
    EXPECT_EQ(policy, SCHED_FIFO) << "thread " << tid;
    EXPECT_EQ(p.sched_priority, 7) << "thread " << tid;
  }
  EXPECT_GE(threads, 2);  // the main thread and at least the HTTP thread
  const int status = s.finish(true);
  EXPECT_TRUE(WIFEXITED(status)) << s.log;
  EXPECT_EQ(WEXITSTATUS(status), 0) << s.log;
}

}  // namespace
}  // namespace softdpu::server::testing
