#include "support/cli_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace softdpu::testing {

CliResult run_cli(const std::string& args) {
  static std::atomic<unsigned> calls{0};
  const std::string err_path =
      (std::filesystem::temp_directory_path() /
       ("softdpu_cli_stderr." + std::to_string(::getpid()) + "." + std::to_string(calls++)))
          .string();
  const std::string cmd =
      std::string(SOFTDPU_BINARY_DIR) + "/softdpu " + args + " 2>'" + err_path + "'";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (status != -1) r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  {
    std::ifstream e(err_path, std::ios::binary);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
  }
  std::error_code ec;
  std::filesystem::remove(err_path, ec);
  r.all = r.out + r.err;
  return r;
}

}  // namespace softdpu::testing
