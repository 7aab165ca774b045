// Boost.Beast listener and connections; routing of the KServe v2 REST endpoints to the core.
#include "server/http_frontend.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "core/cpu_count.h"
#include "server/http_infer_codec.h"

namespace softdpu::server {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

constexpr const char* kJson = "application/json";

std::vector<std::string_view> split_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < target.size()) {
    size_t j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    if (j > i) parts.push_back(target.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

json tensor_metadata_json(const std::vector<TensorMetadata>& ts) {
  json a = json::array();
  for (const TensorMetadata& t : ts)
    a.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
  return a;
}

class Session;
// The connection whose request this thread is handling right now (see handle_infer).
thread_local const Session* tls_handling = nullptr;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, InferenceServer* core, const HttpOptions& opt, bool metrics_only)
      : stream_(std::move(socket)), core_(core), opt_(opt), metrics_only_(metrics_only) {
    // Beast reads max(512, free capacity) bytes per recv: with the default empty buffer a 3.5 KB
    // binary request took 7 recvmsg and 7 epoll_wait, every one a kernel entry (docs/serving.md,
    // "Syscalls per request"). With room for a whole batch-1 request it takes one.
    buffer_.reserve(kReadBufferBytes);
  }

  void start() {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);  // Nagle off: small responses go now
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(opt_.max_request_bytes);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return close();
    }
    if (ec == http::error::body_limit) {
      auto len = parser_->content_length();
      return send_error(413,
                        "request body" +
                            (len ? " of " + std::to_string(*len) + " bytes" : std::string()) +
                            " exceeds the limit of " + std::to_string(opt_.max_request_bytes) +
                            " bytes (--max-request-bytes)",
                        /*close=*/true, /*linger=*/true);
    }
    if (ec) {
      // A client that disconnected mid-request surfaces here (partial message): nothing to answer.
      if (ec == http::error::partial_message) return close();
      return send_error(400, "malformed HTTP request: " + ec.message(), true, true);
    }
    arrival_ = std::chrono::steady_clock::now();
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    tls_handling = this;
    handle();
    tls_handling = nullptr;
  }

  void handle();
  void handle_infer(const std::string& model, const std::string& version);

  void send_json(int status, std::string body) { send(status, std::move(body), kJson, -1, false); }
  // `linger`: the request was refused before its body was read; see linger_close().
  void send_error(int status, const std::string& message, bool close = false, bool linger = false) {
    linger_ = linger;
    send(status, error_json(message), kJson, -1, close);
  }
  void send_status(const Status& st) { send_error(status_to_http(st), st.message()); }

  // The response head is written by hand into a buffer the connection keeps: Beast's response
  // object allocated a node per header field and its serializer walked them per request (together
  // ~10% of the server's CPU on a batch-1 MLP request, docs/serving.md "Server CPU per request").
  // Head and body go out in one sendmsg.
  void send(int status, std::string body, const char* content_type, int64_t header_length,
            bool close) {
    const unsigned version = req_.version() ? req_.version() : 11;
    keep_open_ = keep_alive_ && !close;
    head_.clear();
    head_ += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_number(status);
    head_ += ' ';
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: softdpu\r\nContent-Type: ";
    head_ += content_type;
    if (header_length >= 0) {
      head_ += "\r\nInference-Header-Content-Length: ";
      append_number(header_length);
    }
    head_ += "\r\nContent-Length: ";
    append_number(static_cast<int64_t>(body.size()));
    // As Beast's keep_alive(): HTTP/1.1 stays open unless told, HTTP/1.0 closes unless told.
    if (version >= 11 && !keep_open_) head_ += "\r\nConnection: close";
    if (version < 11 && keep_open_) head_ += "\r\nConnection: keep-alive";
    head_ += "\r\n\r\n";
    body_ = std::move(body);
    const std::array<net::const_buffer, 2> out{net::buffer(head_), net::buffer(body_)};
    // Write now, without blocking: a batch-1 answer fits the socket's send buffer, and writing
    // here spares its completion a trip through the event loop (an epoll_wait, 1.2 us of kernel
    // entry on this VM). Only what the socket did not take goes through async_write.
    beast::error_code ec;
    tcp::socket& socket = stream_.socket();
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    const size_t n = ec ? 0 : net::write(socket, out, ec);
    if (ec == net::error::would_block || ec == net::error::try_again) {
      beast::buffers_suffix<std::array<net::const_buffer, 2>> rest(out);
      rest.consume(n);
      net::async_write(stream_, rest, [self = shared_from_this()](beast::error_code e, size_t) {
        self->on_written(e);
      });
      return;
    }
    on_written(ec);
  }
  void on_written(beast::error_code ec) {
    if (!ec && linger_) return linger_close();
    if (ec || !keep_open_) return close();
    req_ = {};
    read();
  }
  void append_number(int64_t v) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), v).ptr;
    head_.append(digits, static_cast<size_t>(end - digits));
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // After an answer sent before the request's body was read (413, malformed request): closing
  // with unread bytes in the receive buffer makes the kernel send a reset, and a client still
  // writing its body would get the reset instead of the answer (its write fails with a broken
  // pipe, or the reset discards the answer it had not read yet). So, as nginx's lingering_close:
  // stop sending, then read and discard until the client closes, for at most kLingerTime and
  // linger_bytes() (twice the body limit); the socket closes when the session goes away.
  static constexpr std::chrono::seconds kLingerTime{3};
  size_t linger_bytes() const { return std::max<size_t>(opt_.max_request_bytes, 1u << 20) * 2; }
  void linger_close() {
    close();
    discard_ = std::make_unique<char[]>(kDiscardBytes);
    stream_.expires_after(kLingerTime);
    drain();
  }
  void drain() {
    stream_.async_read_some(net::buffer(discard_.get(), kDiscardBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < self->linger_bytes()) self->drain();
                            });
  }
  static constexpr size_t kDiscardBytes = 64u << 10;
  static constexpr size_t kReadBufferBytes = 16u << 10;  // a JSON MLP request is 8 KB

  beast::tcp_stream stream_;
  InferenceServer* core_;
  const HttpOptions& opt_;
  bool metrics_only_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  std::string head_, body_;  // the response being written (head_ keeps its capacity)
  bool keep_open_ = true;
  bool keep_alive_ = true;
  bool linger_ = false;
  std::unique_ptr<char[]> discard_;  // linger_close()'s read buffer
  size_t drained_ = 0;
  std::chrono::steady_clock::time_point arrival_;
};

void Session::handle() {
  const auto parts = split_path(std::string_view(req_.target().data(), req_.target().size()));
  const bool get = req_.method() == http::verb::get;
  const bool post = req_.method() == http::verb::post;
  auto method_error = [&] {
    send_error(405, "method " + std::string(req_.method_string()) + " is not allowed for " +
                        std::string(req_.target()));
  };
  if (metrics_only_) {
    if (parts.size() == 1 && parts[0] == "metrics") {
      if (!get) return method_error();
      return send(200, core_->metrics_text(), "text/plain; version=0.0.4; charset=utf-8", -1,
                  false);
    }
    return send_error(
        404, "unknown endpoint " + std::string(req_.target()) + " (this port serves GET /metrics)");
  }
  if (parts.empty() || parts[0] != "v2")
    return send_error(404, "unknown endpoint " + std::string(req_.target()));
  const size_t n = parts.size();
  if (n == 1) {  // server metadata
    if (!get) return method_error();
    return send_json(200, json{{"name", core_->server_name()},
                               {"version", core_->server_version()},
                               {"extensions", core_->extensions()}}
                              .dump());
  }
  if (parts[1] == "health" && n == 3 && (parts[2] == "live" || parts[2] == "ready")) {
    if (!get) return method_error();
    bool ok = parts[2] == "live" ? core_->live() : core_->ready();
    json body;
    body[std::string(parts[2])] = ok;
    return send_json(ok ? 200 : 400, body.dump());
  }
  if (parts[1] == "repository") {
    if (!post) return method_error();
    if (n == 3 && parts[2] == "index") {
      bool ready_only = false;
      if (!req_.body().empty()) {
        json b = json::parse(req_.body(), nullptr, false);
        if (b.is_discarded() || !b.is_object())
          return send_error(400, "malformed JSON in the repository index request");
        if (b.contains("ready") && b["ready"].is_boolean()) ready_only = b["ready"].get<bool>();
      }
      json a = json::array();
      for (const RepositoryEntry& e : core_->repository_index()) {
        if (ready_only && e.state != "READY") continue;
        json row = {{"name", e.name}, {"state", e.state}, {"reason", e.reason}};
        if (!e.version.empty()) row["version"] = e.version;
        a.push_back(std::move(row));
      }
      return send_json(200, a.dump());
    }
    if (n == 5 && parts[2] == "models" && (parts[4] == "load" || parts[4] == "unload")) {
      std::string name(parts[3]);
      Status st = parts[4] == "load" ? core_->load_model(name) : core_->unload_model(name);
      if (!st) return send_status(st);
      return send_json(200, "{}");
    }
    return send_error(404, "unknown endpoint " + std::string(req_.target()));
  }
  if (parts[1] != "models")
    return send_error(404, "unknown endpoint " + std::string(req_.target()));
  if (n == 3 && parts[2] == "stats") {  // all models
    if (!get) return method_error();
    std::string body;
    Status st = core_->model_statistics("", "", &body);
    return st ? send_json(200, std::move(body)) : send_status(st);
  }
  if (n < 3) return send_error(404, "unknown endpoint " + std::string(req_.target()));
  const std::string model(parts[2]);
  std::string version;
  size_t k = 3;
  if (n >= 5 && parts[3] == "versions") {
    version = std::string(parts[4]);
    k = 5;
  }
  const std::string_view action = k < n ? parts[k] : std::string_view();
  if (k + 1 < n ||
      (k < n && action != "ready" && action != "infer" && action != "config" && action != "stats"))
    return send_error(404, "unknown endpoint " + std::string(req_.target()));
  if (action == "infer") {
    if (!post) return method_error();
    return handle_infer(model, version);
  }
  if (!get) return method_error();
  if (action.empty()) {
    ModelMetadata md;
    Status st = core_->model_metadata(model, version, &md);
    if (!st) return send_status(st);
    return send_json(200, json{{"name", md.name},
                               {"versions", md.versions},
                               {"platform", md.platform},
                               {"inputs", tensor_metadata_json(md.inputs)},
                               {"outputs", tensor_metadata_json(md.outputs)}}
                              .dump());
  }
  if (action == "ready") {
    bool ready = false;
    Status st = core_->model_ready(model, version, &ready);
    if (!st) return send_status(st);
    return send_json(ready ? 200 : 400, json{{"name", model}, {"ready", ready}}.dump());
  }
  std::string body;
  Status st = action == "config" ? core_->model_config(model, version, &body)
                                 : core_->model_statistics(model, version, &body);
  return st ? send_json(200, std::move(body)) : send_status(st);
}

void Session::handle_infer(const std::string& model, const std::string& version) {
  InferRequest ir;
  ir.model_name = model;
  ir.model_version = version;
  ir.arrival = arrival_;
  int64_t header_length = -1;
  auto it = req_.find("Inference-Header-Content-Length");
  if (it != req_.end()) {
    std::string v(it->value());
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
      return send_error(400, "Inference-Header-Content-Length '" + v + "' is not a byte count");
    header_length = std::stoll(v);
  }
  ResponseFormat format;
  Status st = decode_infer_request(req_.body(), header_length, &ir, &format);
  if (!st) {
    // An unknown model or version is the more useful answer than a body complaint.
    bool ready = false;
    Status model_st = core_->model_ready(model, version, &ready);
    return send_status(model_st ? st : model_st);
  }
  req_.body().clear();
  req_.body().shrink_to_fit();
  core_->infer(std::move(ir), [self = shared_from_this(), format = std::move(format)](
                                  Status s, InferResponse r) mutable {
    auto respond = [self, s = std::move(s), r = std::move(r), format = std::move(format)] {
      if (!s) return self->send_status(s);
      std::string body;
      int64_t header_length = -1;
      encode_infer_response(r, format, &body, &header_length);
      self->send(200, std::move(body), header_length >= 0 ? "application/octet-stream" : kJson,
                 header_length, false);
    };
    // Inline fast path: still inside this connection's handle() on its I/O thread, so answer
    // without a hop; from a model worker, post to the connection's strand.
    if (tls_handling == self.get())
      respond();
    else
      net::post(self->stream_.get_executor(), std::move(respond));
  });
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Connections are spread round-robin over `pool`: each connection lives on one single-threaded
  // io_context, so its reads, handler and writes never change thread.
  Listener(std::vector<std::unique_ptr<net::io_context>>& pool, InferenceServer* core,
           const HttpOptions& opt, bool metrics_only)
      : pool_(pool), acceptor_(*pool[0]), core_(core), opt_(opt), metrics_only_(metrics_only) {}

  Status listen(const std::string& address, int port) {
    beast::error_code ec;
    auto addr = net::ip::make_address(address, ec);
    if (ec) return {StatusCode::kInvalidArgument, "bad listen address '" + address + "'"};
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return {StatusCode::kUnavailable,
              "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message()};
    port_ = acceptor_.local_endpoint().port();
    return Status::ok();
  }
  int port() const { return port_; }
  void accept() {
    acceptor_.async_accept(pool_[next_++ % pool_.size()]->get_executor(),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
                             if (ec == net::error::operation_aborted) return;
                             if (!ec)
                               std::make_shared<Session>(std::move(s), self->core_, self->opt_,
                                                         self->metrics_only_)
                                   ->start();
                             self->accept();
                           });
  }
  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  std::vector<std::unique_ptr<net::io_context>>& pool_;
  size_t next_ = 0;
  tcp::acceptor acceptor_;
  InferenceServer* core_;
  const HttpOptions& opt_;
  bool metrics_only_;
  int port_ = 0;
};

class HttpFrontendImpl final : public HttpFrontend {
 public:
  HttpFrontendImpl(InferenceServer* core, const HttpOptions& opt) : opt_(opt), core_(core) {
    int n = opt_.threads > 0 ? opt_.threads : usable_cpu_count();
    for (int i = 0; i < n; ++i) pool_.push_back(std::make_unique<net::io_context>(1));
  }
  ~HttpFrontendImpl() override { stop(); }

  Status start() {
    api_ = std::make_shared<Listener>(pool_, core_, opt_, false);
    Status st = api_->listen(opt_.address, opt_.port);
    if (!st) return st;
    if (opt_.metrics_port >= 0) {
      metrics_ = std::make_shared<Listener>(pool_, core_, opt_, true);
      st = metrics_->listen(opt_.address, opt_.metrics_port);
      if (!st) return st;
      metrics_->accept();
    }
    api_->accept();
    for (auto& ioc : pool_) {
      threads_.emplace_back([c = ioc.get(), spin = std::chrono::microseconds(opt_.busy_poll_us)] {
        auto work = net::make_work_guard(*c);  // idle threads wait for connections
        if (spin.count() <= 0) return static_cast<void>(c->run());
        // Busy polling: poll() runs whatever is ready without blocking; only after `spin` of
        // nothing does the thread sleep in epoll (run_one) until the next event.
        while (!c->stopped()) {
          const auto until = std::chrono::steady_clock::now() + spin;
          size_t n = 0;
          while ((n = c->poll()) == 0 && !c->stopped() && std::chrono::steady_clock::now() < until)
            continue;
          if (n == 0 && !c->stopped()) c->run_one();
        }
      });
    }
    return Status::ok();
  }
  int port() const override { return api_->port(); }
  int metrics_port() const override { return metrics_ ? metrics_->port() : -1; }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (api_) api_->close();
    if (metrics_) metrics_->close();
    for (auto& ioc : pool_) ioc->stop();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  HttpOptions opt_;
  std::vector<std::unique_ptr<net::io_context>> pool_;  // one per I/O thread
  InferenceServer* core_;
  std::shared_ptr<Listener> api_, metrics_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace

Status HttpFrontend::start(InferenceServer* core, const HttpOptions& options,
                           std::unique_ptr<HttpFrontend>* out) {
  auto f = std::make_unique<HttpFrontendImpl>(core, options);
  Status st = f->start();
  if (!st) return st;
  *out = std::move(f);
  return Status::ok();
}

}  // namespace softdpu::server
