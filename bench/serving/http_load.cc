// softdpu_http_load: the REST counterpart of softdpu_grpc_load (docs/serving.md, "Load
// benchmark"). POSTs one pre-built KServe v2 infer body (bench/serving/make_bodies.py: JSON, or
// binary extension with --header-length) over C keep-alive connections, either
//  - closed loop: each connection sends its next request when the previous answer arrives, or
//  - open loop: a fixed offered rate R; request i is due at i/R and goes on connection i mod C.
//    Its latency runs from when it was due, so a connection still waiting for an earlier answer
//    makes the request late and the lateness counts (no coordinated omission, as wrk2; Debian's
//    wrk has no fixed-rate mode).
// Same report as softdpu_grpc_load (load_report.h).
#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_report.h"

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

struct Options : softdpu::bench::LoadShape {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string model;
  std::string body_file;
  int64_t header_length = -1;  // Inference-Header-Content-Length; -1 = a JSON body
};

// One connection's share of the load; latencies of the calls due inside the measured window.
void run_connection(const Options& o, const std::string& body, int k, Clock::time_point start,
                    softdpu::bench::LoadReport* out, std::mutex* mu) {
  const auto measure_from = start + std::chrono::duration<double>(o.warmup_s);
  const auto end = measure_from + std::chrono::duration<double>(o.duration_s);
  std::vector<double> lat, late, from_send;
  lat.reserve(1 << 16);
  late.reserve(1 << 16);
  from_send.reserve(1 << 16);
  softdpu::bench::set_timer_slack(o);
  uint64_t errors = 0, backlogged = 0;
  std::string first_error;
  try {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address(o.host), static_cast<unsigned short>(o.port)});
    socket.set_option(net::ip::tcp::no_delay(true));
    http::request<http::string_body> req{http::verb::post, "/v2/models/" + o.model + "/infer", 11};
    req.set(http::field::host, o.host);
    req.set(http::field::content_type,
            o.header_length >= 0 ? "application/octet-stream" : "application/json");
    if (o.header_length >= 0)
      req.set("Inference-Header-Content-Length", std::to_string(o.header_length));
    req.body() = body;
    req.prepare_payload();
    boost::beast::flat_buffer buffer;
    const auto period = std::chrono::duration<double>(o.rate > 0 ? 1.0 / o.rate : 0);
    for (uint64_t i = static_cast<uint64_t>(k);; i += static_cast<uint64_t>(o.concurrency)) {
      auto due = Clock::now();
      bool paced = false;  // the connection was free before the due time and waited for it
      if (o.rate > 0) {
        due = start + std::chrono::duration_cast<Clock::duration>(period * double(i));
        paced = softdpu::bench::wait_until<Clock>(o, due);
      }
      if (due >= end) break;
      const auto sent = Clock::now();
      http::write(socket, req);
      http::response<http::string_body> res;
      http::read(socket, buffer, res);
      const auto done = Clock::now();
      if (due < measure_from) continue;
      if (res.result_int() == 200) {
        lat.push_back(std::chrono::duration<double, std::micro>(done - due).count());
        if (o.rate > 0) {
          // Only a paced send's lateness is the generator's own; a request due while its
          // connection still waited for an earlier answer queued behind that answer.
          if (paced) {
            late.push_back(std::chrono::duration<double, std::micro>(sent - due).count());
          } else {
            ++backlogged;
          }
          from_send.push_back(std::chrono::duration<double, std::micro>(done - sent).count());
        }
      } else {
        ++errors;
        if (first_error.empty())
          first_error = "HTTP " + std::to_string(res.result_int()) + ": " + res.body();
      }
    }
  } catch (const std::exception& e) {
    ++errors;
    first_error = std::string("connection ") + std::to_string(k) + ": " + e.what();
  }
  std::lock_guard<std::mutex> lock(*mu);
  out->latencies_us.insert(out->latencies_us.end(), lat.begin(), lat.end());
  out->send_late_us.insert(out->send_late_us.end(), late.begin(), late.end());
  out->from_send_us.insert(out->from_send_us.end(), from_send.begin(), from_send.end());
  out->errors += errors;
  out->backlogged += backlogged;
  if (out->first_error.empty()) out->first_error = first_error;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"softdpu REST load generator (POST one infer body; closed or open loop)"};
  app.add_option("--host", o.host, "server address")->capture_default_str();
  app.add_option("--port", o.port, "HTTP port")->capture_default_str();
  app.add_option("--model", o.model, "model name")->required();
  app.add_option("--body", o.body_file, "infer body file (bench/serving/make_bodies.py)")
      ->required();
  app.add_option("--header-length", o.header_length,
                 "Inference-Header-Content-Length of a binary-extension body (-1 = JSON body)")
      ->capture_default_str();
  softdpu::bench::add_load_shape_options(app, &o, "connections");
  CLI11_PARSE(app, argc, argv);

  std::ifstream f(o.body_file, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "http_load: cannot read %s\n", o.body_file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string body = ss.str();

  softdpu::bench::LoadReport r =
      softdpu::bench::make_report(o, o.model, o.header_length >= 0 ? "bin" : "json");
  std::mutex mu;
  const auto start = Clock::now() + std::chrono::milliseconds(50);  // after every connect
  std::vector<std::thread> threads;
  for (int k = 0; k < o.concurrency; ++k)
    threads.emplace_back(run_connection, std::cref(o), std::cref(body), k, start, &r, &mu);
  for (auto& t : threads) t.join();
  return softdpu::bench::print_report(r, o.json);
}
