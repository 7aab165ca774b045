// softdpu_tcp_pingpong: the transport floor of `softdpu serve` on this machine (docs/serving.md,
// "The transport floor"). A server that does nothing but answer: it reads a request of --request
// bytes and writes --response bytes back, over loopback TCP with Nagle off, as the HTTP server
// does for a batch-1 binary request (MLP: ~3.3 KB in, ~0.2 KB out). What it measures is what no
// server can beat on this kernel: two loopback TCP traversals, the wake-ups of a thread blocked
// on each side, and the syscalls of one read and one write per side.
//
//   softdpu_tcp_pingpong --server-cpu 0 --client-cpu 1 [-c C] [-d SECONDS] [--server MODE]
//
// Server modes: `epoll` (one thread, non-blocking sockets, level-triggered epoll_wait then recv
// until EAGAIN, then send: the syscall pattern of an event-loop server such as Asio's), `block`
// (one thread per connection, blocking recv/send: the fewest syscalls per round trip) or `spin`
// (one thread polling non-blocking sockets without ever sleeping: no server wake-up). The
// client runs C connections closed loop (each sends its next request when the answer arrives),
// one thread each, all pinned to --client-cpu. Prints the load_report.h report (p50, p99, req/s)
// and, on stderr, the server threads' CPU time per request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "load_report.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options : softdpu::bench::LoadShape {
  size_t request_bytes = 3320;  // the MLP binary-extension request (header + 3136 bytes) with HTTP
  size_t response_bytes = 230;  // its answer: HTTP header, JSON header, 40 bytes of logits
  int server_cpu = 0, client_cpu = 1;
  std::string server_mode = "epoll";
  // The server in a child process: a context switch between client and server then changes
  // address space, as between a load generator and `softdpu serve` (threads of one process
  // switch without it, which makes the floor on one CPU look cheaper than any real server).
  bool fork_server = false;
};

// Answers sent and CPU time used by the server threads (whole run, warm-up included): the
// transport's CPU cost per request on the server's core, which bounds the throughput of one core.
std::atomic<uint64_t> g_served{0}, g_server_cpu_ns{0};

template <class F>
void account_cpu(F&& body) {
  auto cpu_ns = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
  };
  const uint64_t t0 = cpu_ns();
  body();
  g_server_cpu_ns += cpu_ns() - t0;
}

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + strerror(errno));
}

void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Blocking: read exactly n bytes (false on end of stream).
bool read_exact(int fd, char* buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t k = recv(fd, buf + got, n - got, 0);
    if (k <= 0) return false;
    got += static_cast<size_t>(k);
  }
  return true;
}

bool write_all(int fd, const char* buf, size_t n) {
  for (size_t sent = 0; sent < n;) {
    ssize_t k = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
    if (k <= 0) return false;
    sent += static_cast<size_t>(k);
  }
  return true;
}

// One thread that never sleeps: non-blocking recv on every connection in turn, answer each whole
// request. No wake-up of the server (its CPU is burnt instead): what busy polling could reach.
void serve_spin(int listener, const Options& o, std::atomic<bool>* stop) {
  std::vector<int> fds;
  std::vector<size_t> got;
  std::vector<char> in(o.request_bytes), out(o.response_bytes, 'r');
  while (static_cast<int>(fds.size()) < o.concurrency) {
    int c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    if (c < 0) return;
    no_delay(c);
    fds.push_back(c);
    got.push_back(0);
  }
  while (!stop->load(std::memory_order_relaxed)) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] < 0) continue;
      ssize_t k = recv(fds[i], in.data(), o.request_bytes - got[i], 0);
      if (k == 0 || (k < 0 && errno != EAGAIN)) {
        close(fds[i]);
        fds[i] = -1;
        continue;
      }
      if (k < 0) continue;
      got[i] += static_cast<size_t>(k);
      if (got[i] == o.request_bytes) {
        got[i] = 0;
        write_all(fds[i], out.data(), out.size());
        ++g_served;
      }
    }
  }
  for (int fd : fds)
    if (fd >= 0) close(fd);
}

// One thread per connection, blocking recv / send.
void serve_blocking(int fd, const Options& o) {
  std::vector<char> in(o.request_bytes), out(o.response_bytes, 'r');
  while (read_exact(fd, in.data(), in.size()) && write_all(fd, out.data(), out.size())) ++g_served;
  close(fd);
}

// One thread for every connection: epoll_wait, recv until a whole request is in (or EAGAIN),
// answer it with one send.
void serve_epoll(int listener, const Options& o, std::atomic<bool>* stop) {
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<size_t> got(4096, 0);
  std::vector<char> in(o.request_bytes), out(o.response_bytes, 'r');
  epoll_event events[64];
  while (!stop->load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, events, 64, 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (c < 0) continue;
        no_delay(c);
        ev.data.fd = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        continue;
      }
      for (;;) {
        ssize_t k = recv(fd, in.data(), o.request_bytes - got[static_cast<size_t>(fd)], 0);
        if (k == 0 || (k < 0 && errno != EAGAIN)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          close(fd);
          got[static_cast<size_t>(fd)] = 0;
          break;
        }
        if (k < 0) break;  // EAGAIN: the rest of the request is not here yet
        got[static_cast<size_t>(fd)] += static_cast<size_t>(k);
        if (got[static_cast<size_t>(fd)] == o.request_bytes) {
          got[static_cast<size_t>(fd)] = 0;
          write_all(fd, out.data(), out.size());  // small: goes at once on a non-blocking socket
          ++g_served;
          break;
        }
      }
    }
  }
  close(ep);
}

void client_connection(const Options& o, int port, Clock::time_point start,
                       softdpu::bench::LoadReport* report, std::mutex* mu) {
  pin(o.client_cpu);
  const auto measure_from = start + std::chrono::duration<double>(o.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(o.duration_s);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) fail("connect");
  no_delay(fd);
  std::vector<char> req(o.request_bytes, 'q'), res(o.response_bytes);
  std::vector<double> lat;
  lat.reserve(1 << 20);
  uint64_t errors = 0;
  std::this_thread::sleep_until(start);
  for (;;) {
    const auto t0 = Clock::now();
    if (t0 >= end) break;
    if (!write_all(fd, req.data(), req.size()) || !read_exact(fd, res.data(), res.size())) {
      ++errors;
      break;
    }
    if (t0 >= measure_from)
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  close(fd);
  std::lock_guard<std::mutex> lock(*mu);
  report->latencies_us.insert(report->latencies_us.end(), lat.begin(), lat.end());
  report->errors += errors;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"loopback TCP ping-pong: the transport floor under softdpu serve"};
  app.add_option("--request", o.request_bytes, "request bytes")->capture_default_str();
  app.add_option("--response", o.response_bytes, "response bytes")->capture_default_str();
  app.add_option("--server-cpu", o.server_cpu, "CPU of the server threads (-1: any)")
      ->capture_default_str();
  app.add_option("--client-cpu", o.client_cpu, "CPU of the client threads (-1: any)")
      ->capture_default_str();
  app.add_option("--server", o.server_mode,
                 "epoll (one event-loop thread), block (a thread per connection) or spin")
      ->check(CLI::IsMember({"epoll", "block", "spin"}))
      ->capture_default_str();
  app.add_flag("--fork", o.fork_server,
               "run the server in a child process (client-server switches change address space)");
  bool syscall_cost = false;
  app.add_flag("--syscall-cost", syscall_cost,
               "only print the CPU time of a trivial syscall (getppid), median of 5 x 100000");
  softdpu::bench::add_load_shape_options(app, &o, "connections (client threads)");
  CLI11_PARSE(app, argc, argv);
  if (syscall_cost) {  // what each kernel entry costs here (PTI, paravirtualised VM)
    pin(o.server_cpu);
    std::vector<double> ns;
    for (int k = 0; k < 5; ++k) {
      timespec a{}, b{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      for (int i = 0; i < 100000; ++i) (void)getppid();
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      ns.push_back(((b.tv_sec - a.tv_sec) * 1e9 + static_cast<double>(b.tv_nsec - a.tv_nsec)) /
                   1e5);
    }
    std::sort(ns.begin(), ns.end());
    std::printf("syscall (getppid) CPU time: %.0f ns\n", ns[2]);
    return 0;
  }

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) fail("bind");
  socklen_t len = sizeof(a);
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  listen(listener, 128);

  std::atomic<bool> stop{false};
  std::vector<std::thread> servers;
  auto start_servers = [&] {
    if (o.server_mode == "epoll") {
      servers.emplace_back([&] {
        pin(o.server_cpu);
        account_cpu([&] { serve_epoll(listener, o, &stop); });
      });
    } else if (o.server_mode == "spin") {
      servers.emplace_back([&] {
        pin(o.server_cpu);
        account_cpu([&] { serve_spin(listener, o, &stop); });
      });
    } else {
      servers.emplace_back([&] {
        pin(o.server_cpu);
        std::vector<std::thread> per_connection;
        for (int i = 0; i < o.concurrency; ++i) {
          int c = accept(listener, nullptr, nullptr);
          if (c < 0) break;
          no_delay(c);
          per_connection.emplace_back([c, &o] {
            pin(o.server_cpu);
            account_cpu([&] { serve_blocking(c, o); });
          });
        }
        for (auto& t : per_connection) t.join();
      });
    }
  };
  // --fork: the child serves until the parent closes `control`, then reports served / CPU ns.
  int control[2] = {-1, -1}, result[2] = {-1, -1};
  pid_t child = -1;
  if (o.fork_server) {
    if (pipe(control) != 0 || pipe(result) != 0) fail("pipe");
    child = fork();
    if (child < 0) fail("fork");
    if (child == 0) {
      close(control[1]);
      close(result[0]);
      start_servers();
      char c;
      while (read(control[0], &c, 1) > 0) {
      }
      stop = true;
      for (auto& t : servers) t.join();
      const uint64_t totals[2] = {g_served.load(), g_server_cpu_ns.load()};
      const bool ok = write(result[1], totals, sizeof(totals)) == sizeof(totals);
      _exit(ok ? 0 : 1);
    }
    close(control[0]);
    close(result[1]);
  } else {
    start_servers();
  }

  softdpu::bench::LoadReport r = softdpu::bench::make_report(o, "tcp-pingpong", o.server_mode);
  std::mutex mu;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  std::vector<std::thread> clients;
  for (int k = 0; k < o.concurrency; ++k)
    clients.emplace_back(client_connection, std::cref(o), port, start, &r, &mu);
  for (auto& t : clients) t.join();
  stop = true;
  for (auto& t : servers) t.join();
  if (child > 0) {
    close(control[1]);
    uint64_t totals[2] = {0, 0};
    if (read(result[0], totals, sizeof(totals)) == sizeof(totals)) {
      g_served = totals[0];
      g_server_cpu_ns = totals[1];
    }
    waitpid(child, nullptr, 0);
  }
  close(listener);
  const int status = softdpu::bench::print_report(r, o.json);
  std::fprintf(
      stderr, "server CPU per request: %.1f us (%llu requests)\n",
      g_served ? static_cast<double>(g_server_cpu_ns) / 1e3 / static_cast<double>(g_served) : 0.0,
      static_cast<unsigned long long>(g_served.load()));
  return status;
}
