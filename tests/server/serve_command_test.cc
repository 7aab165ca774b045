// `softdpu serve` as a process: serves the bundled models, answers over HTTP, and on SIGTERM
// turns unready, drains and exits 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "server/server_test_util.h"

namespace softdpu::server::testing {
namespace {

TEST(ServeCommand, ServesBundledModelsAndExitsCleanlyOnSigterm) {
  const std::string bin = std::string(SOFTDPU_BINARY_DIR) + "/softdpu";
  int err_pipe[2];
  ASSERT_EQ(pipe(err_pipe), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(err_pipe[1], 2);
    close(err_pipe[0]);
    if (chdir(kRoot.c_str()) != 0) _exit(127);  // the bundled models/ are found from the cwd
    execl(bin.c_str(), bin.c_str(), "serve", "--address", "127.0.0.1", "--http-port", "0",
          "--metrics-port", "-1", "--http-threads", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err_pipe[1]);
  // Read stderr until the server says it is ready; it names the bound port before that.
  std::string log;
  char buf[512];
  int port = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (log.find("ready (") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(err_pipe[0], buf, sizeof buf);
    if (n <= 0) break;
    log.append(buf, static_cast<size_t>(n));
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("HTTP/REST on 127.0.0.1:(\\d+)"))) << log;
  port = std::stoi(m[1]);
  EXPECT_NE(log.find("model fashion_mlp version 1: READY"), std::string::npos) << log;
  {
    TestClient c(port);
    EXPECT_EQ(c.get("/v2/health/ready").status, 200);
    Tensor x = read_npy(kRoot + "/tests/data/models/fashion_cnn/input1.npy");
    auto r = c.post("/v2/models/fashion_cnn/infer",
                    json_infer_body("input", x.shape(), x.data_as<float>()));
    EXPECT_EQ(r.status, 200) << r.body;
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  while (true) {
    ssize_t n = read(err_pipe[0], buf, sizeof buf);
    if (n <= 0) break;
    log.append(buf, static_cast<size_t>(n));
  }
  close(err_pipe[0]);
  EXPECT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
}

}  // namespace
}  // namespace softdpu::server::testing
