// The gRPC front end against a test-double InferenceServer (grpc_test_double.h), over a real
// loopback socket with the generated stub as the client. The double's models have answers the
// tests compute themselves (a+b and a-b, a running sum per sequence); it validates inputs the way
// the real core does and can be told to fail with any status code, so every RPC, both content
// encodings, the stream and every error path go over the wire.
#include "server/grpc/grpc_frontend.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "grpc_predict_v2.grpc.pb.h"
#include "server/grpc_test_double.h"

namespace softdpu::server {
namespace {

namespace pb = ::inference;
using grpc_test::bytes_of;
using grpc_test::FakeServer;
using grpc_test::floats_of;

// ---- fixture -----------------------------------------------------------------------------------

constexpr int kMaxMessageBytes = 64 << 10;

class GrpcFrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcOptions options;
    options.address = "127.0.0.1:0";
    options.max_message_bytes = kMaxMessageBytes;
    ASSERT_TRUE(GrpcFrontend::start(&core_, options, &frontend_).is_ok());
    ASSERT_GT(frontend_->port(), 0);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);  // so the over-size test reaches the server's limit
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(frontend_->port()),
                                             grpc::InsecureChannelCredentials(), args);
    stub_ = pb::GRPCInferenceService::NewStub(channel);
  }
  void TearDown() override {
    if (frontend_) frontend_->stop(2000);
  }

  static void deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  // add_sub request with raw contents; a and b random.
  pb::ModelInferRequest add_sub_request(std::vector<float>* a, std::vector<float>* b) {
    std::uniform_real_distribution<float> dist(-10.f, 10.f);
    a->resize(4);
    b->resize(4);
    for (int i = 0; i < 4; ++i) {
      (*a)[i] = dist(rng_);
      (*b)[i] = dist(rng_);
    }
    pb::ModelInferRequest req;
    req.set_model_name("add_sub");
    req.set_id("req-1");
    for (const char* name : {"INPUT0", "INPUT1"}) {
      auto* in = req.add_inputs();
      in->set_name(name);
      in->set_datatype("FP32");
      in->add_shape(1);
      in->add_shape(4);
    }
    req.add_raw_input_contents(bytes_of(*a));
    req.add_raw_input_contents(bytes_of(*b));
    return req;
  }

  grpc::Status infer(const pb::ModelInferRequest& req, pb::ModelInferResponse* resp) {
    grpc::ClientContext ctx;
    deadline(&ctx);
    return stub_->ModelInfer(&ctx, req, resp);
  }

  // A good call works (after an error, the server keeps serving).
  void expect_good_call() {
    std::vector<float> a, b;
    pb::ModelInferResponse resp;
    grpc::Status st = infer(add_sub_request(&a, &b), &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.raw_output_contents_size(), 2);
    std::vector<float> sum = floats_of(resp.raw_output_contents(0));
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(sum[i], a[i] + b[i]);
  }

  void expect_error(const pb::ModelInferRequest& req, grpc::StatusCode code,
                    const std::string& words) {
    pb::ModelInferResponse resp;
    grpc::Status st = infer(req, &resp);
    EXPECT_EQ(st.error_code(), code) << st.error_message();
    EXPECT_NE(st.error_message().find(words), std::string::npos) << st.error_message();
    expect_good_call();
  }

  std::mt19937 rng_{1234};
  FakeServer core_;
  std::unique_ptr<GrpcFrontend> frontend_;
  std::unique_ptr<pb::GRPCInferenceService::Stub> stub_;
};

// ---- health and metadata -----------------------------------------------------------------------

TEST_F(GrpcFrontendTest, HealthAndServerMetadata) {
  grpc::ClientContext c1, c2, c3;
  pb::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  pb::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  pb::ServerMetadataResponse md;
  ASSERT_TRUE(stub_->ServerMetadata(&c3, {}, &md).ok());
  EXPECT_EQ(md.name(), "fake");
  EXPECT_EQ(md.version(), "0.0-test");
  ASSERT_EQ(md.extensions_size(), 2);
  EXPECT_EQ(md.extensions(0), "sequence");
}

TEST_F(GrpcFrontendTest, ModelReadyAndMetadata) {
  {
    grpc::ClientContext ctx;
    pb::ModelReadyRequest req;
    req.set_name("add_sub");
    pb::ModelReadyResponse resp;
    ASSERT_TRUE(stub_->ModelReady(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.ready());
  }
  {
    grpc::ClientContext ctx;
    pb::ModelReadyRequest req;
    req.set_name("nope");
    pb::ModelReadyResponse resp;
    grpc::Status st = stub_->ModelReady(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(st.error_message(), "unknown model 'nope'");
  }
  {
    grpc::ClientContext ctx;
    pb::ModelMetadataRequest req;
    req.set_name("add_sub");
    pb::ModelMetadataResponse md;
    ASSERT_TRUE(stub_->ModelMetadata(&ctx, req, &md).ok());
    EXPECT_EQ(md.name(), "add_sub");
    EXPECT_EQ(md.platform(), "softdpu_onnx");
    ASSERT_EQ(md.versions_size(), 1);
    ASSERT_EQ(md.inputs_size(), 2);
    ASSERT_EQ(md.outputs_size(), 2);
    EXPECT_EQ(md.inputs(1).name(), "INPUT1");
    EXPECT_EQ(md.inputs(1).datatype(), "FP32");
    ASSERT_EQ(md.inputs(1).shape_size(), 2);
    EXPECT_EQ(md.inputs(1).shape(1), 4);
    EXPECT_EQ(md.outputs(0).name(), "OUTPUT0");
  }
  {
    grpc::ClientContext ctx;
    pb::ModelMetadataRequest req;
    req.set_name("nope");
    pb::ModelMetadataResponse md;
    EXPECT_EQ(stub_->ModelMetadata(&ctx, req, &md).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

// ---- inference ---------------------------------------------------------------------------------

TEST_F(GrpcFrontendTest, InferRawContents) {
  std::vector<float> a, b;
  pb::ModelInferResponse resp;
  grpc::Status st = infer(add_sub_request(&a, &b), &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.model_name(), "add_sub");
  EXPECT_EQ(resp.model_version(), "1");
  EXPECT_EQ(resp.id(), "req-1");
  ASSERT_EQ(resp.outputs_size(), 2);
  ASSERT_EQ(resp.raw_output_contents_size(), 2);
  EXPECT_EQ(resp.outputs(0).name(), "OUTPUT0");
  EXPECT_EQ(resp.outputs(1).name(), "OUTPUT1");
  EXPECT_EQ(resp.outputs(1).datatype(), "FP32");
  ASSERT_EQ(resp.outputs(1).shape_size(), 2);
  EXPECT_EQ(resp.outputs(1).shape(1), 4);
  std::vector<float> sum = floats_of(resp.raw_output_contents(0));
  std::vector<float> diff = floats_of(resp.raw_output_contents(1));
  ASSERT_EQ(sum.size(), 4u);
  ASSERT_EQ(diff.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(sum[i], a[i] + b[i]);
    EXPECT_FLOAT_EQ(diff[i], a[i] - b[i]);
  }
}

TEST_F(GrpcFrontendTest, InferTypedContents) {
  std::vector<float> a, b;
  pb::ModelInferRequest req = add_sub_request(&a, &b);
  req.clear_raw_input_contents();
  for (float v : a) req.mutable_inputs(0)->mutable_contents()->add_fp32_contents(v);
  for (float v : b) req.mutable_inputs(1)->mutable_contents()->add_fp32_contents(v);
  pb::ModelInferResponse resp;
  grpc::Status st = infer(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::vector<float> diff = floats_of(resp.raw_output_contents(1));
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(diff[i], a[i] - b[i]);
  // What reached the core is the raw layout of the same values.
  EXPECT_EQ(core_.last_request().inputs.at(1).data, bytes_of(b));
}

TEST_F(GrpcFrontendTest, RequestedOutputsHonoured) {
  std::vector<float> a, b;
  pb::ModelInferRequest req = add_sub_request(&a, &b);
  req.add_outputs()->set_name("OUTPUT1");
  pb::ModelInferResponse resp;
  ASSERT_TRUE(infer(req, &resp).ok());
  ASSERT_EQ(resp.outputs_size(), 1);
  ASSERT_EQ(resp.raw_output_contents_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "OUTPUT1");
  std::vector<float> diff = floats_of(resp.raw_output_contents(0));
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(diff[i], a[i] - b[i]);

  req.mutable_outputs(0)->set_name("OUTPUT9");
  expect_error(req, grpc::StatusCode::INVALID_ARGUMENT, "unknown output 'OUTPUT9'");
  req.mutable_outputs(0)->set_name("OUTPUT0");
  (*req.mutable_outputs(0)->mutable_parameters())["classification"].set_int64_param(3);
  expect_error(req, grpc::StatusCode::UNIMPLEMENTED, "classification");
}

TEST_F(GrpcFrontendTest, BadRequestsGetPreciseErrorsAndTheServerKeepsServing) {
  std::vector<float> a, b;
  const pb::ModelInferRequest good = add_sub_request(&a, &b);

  pb::ModelInferRequest r = good;
  r.set_model_name("nope");
  expect_error(r, grpc::StatusCode::NOT_FOUND, "unknown model 'nope'");

  r = good;
  r.mutable_inputs(0)->set_datatype("INT32");
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT0': expected datatype FP32");

  r = good;  // 12 bytes of raw contents for a [1, 4] FP32 tensor
  r.set_raw_input_contents(1, good.raw_input_contents(1).substr(0, 12));
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT1': expected 16 bytes, got 12");

  r = good;  // shape disagreeing with the model
  r.mutable_inputs(0)->set_shape(1, 3);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "expected shape [1, 4], got [1, 3]");

  r = good;  // missing input
  r.mutable_inputs()->RemoveLast();
  r.mutable_raw_input_contents()->RemoveLast();
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "missing input 'INPUT1'");

  r = good;  // raw entries do not match the inputs
  r.mutable_raw_input_contents()->RemoveLast();
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT,
               "raw_input_contents has 1 entries but the request has 2 inputs");

  r = good;  // raw and typed at once
  r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "contents and raw_input_contents");

  r = good;  // typed: too few values
  r.clear_raw_input_contents();
  for (int i = 0; i < 4; ++i) r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  for (int i = 0; i < 3; ++i) r.mutable_inputs(1)->mutable_contents()->add_fp32_contents(1.f);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT,
               "input 'INPUT1' (FP32, shape [1, 4]): expected 4 values in contents.fp32_contents, "
               "got 3");

  r.mutable_inputs(1)->mutable_contents()->Clear();  // typed: the wrong field for the datatype
  for (int i = 0; i < 4; ++i) r.mutable_inputs(1)->mutable_contents()->add_int_contents(1);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT,
               "values go in contents.fp32_contents, got int_contents");

  r.mutable_inputs(1)->set_datatype("FP16");  // no typed field exists for FP16
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "send it in raw_input_contents");

  r.mutable_inputs(1)->set_datatype("INT8");  // narrowing out of range
  r.mutable_inputs(1)->mutable_contents()->set_int_contents(2, 300);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "value 300 at index 2 is out of range");

  r = good;
  r.mutable_inputs(0)->set_shape(0, -2);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "input 'INPUT0': invalid shape [-2, 4]");
}

TEST_F(GrpcFrontendTest, MessageOverTheLimitIsRefusedAndTheServerKeepsServing) {
  std::vector<float> a, b;
  pb::ModelInferRequest r = add_sub_request(&a, &b);
  r.set_raw_input_contents(0, std::string(kMaxMessageBytes + 1024, '\0'));
  pb::ModelInferResponse resp;
  grpc::Status st = infer(r, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_NE(st.error_message().find("larger than max"), std::string::npos) << st.error_message();
  expect_good_call();
}

TEST_F(GrpcFrontendTest, CoreStatusCodesMapToGrpcCodesWithTheMessageUnchanged) {
  const std::pair<StatusCode, grpc::StatusCode> cases[] = {
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {StatusCode::kTooLarge, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kUnsupported, grpc::StatusCode::UNIMPLEMENTED},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {StatusCode::kInvalidModel, grpc::StatusCode::INTERNAL},
      {StatusCode::kIoError, grpc::StatusCode::INTERNAL},
  };
  for (const auto& [code, want] : cases) {
    pb::ModelInferRequest r;
    r.set_model_name("status");
    auto* in = r.add_inputs();
    in->set_name("CODE");
    in->set_datatype("INT32");
    in->add_shape(1);
    in->mutable_contents()->add_int_contents(static_cast<int32_t>(code));
    pb::ModelInferResponse resp;
    grpc::Status st = infer(r, &resp);
    EXPECT_EQ(st.error_code(), want) << status_code_name(code);
    EXPECT_EQ(st.error_message(), "forced status " + std::to_string(static_cast<int>(code)));
  }
}

TEST_F(GrpcFrontendTest, SequenceAndTimeoutParametersReachTheCore) {
  std::vector<float> a, b;
  pb::ModelInferRequest r = add_sub_request(&a, &b);
  auto& params = *r.mutable_parameters();
  params["sequence_id"].set_int64_param(42);
  params["sequence_start"].set_bool_param(true);
  params["sequence_end"].set_bool_param(false);
  params["timeout"].set_int64_param(2500);
  params["priority"].set_uint64_param(1);  // accepted and ignored
  pb::ModelInferResponse resp;
  ASSERT_TRUE(infer(r, &resp).ok());
  InferRequest seen = core_.last_request();
  EXPECT_EQ(seen.sequence_id, "42");
  EXPECT_TRUE(seen.sequence_start);
  EXPECT_FALSE(seen.sequence_end);
  EXPECT_EQ(seen.timeout_us, 2500u);

  params["sequence_id"].set_string_param("abc");
  params["sequence_start"].set_bool_param(false);
  params["sequence_end"].set_bool_param(true);
  params["timeout"].set_uint64_param(7);
  ASSERT_TRUE(infer(r, &resp).ok());
  seen = core_.last_request();
  EXPECT_EQ(seen.sequence_id, "abc");
  EXPECT_FALSE(seen.sequence_start);
  EXPECT_TRUE(seen.sequence_end);
  EXPECT_EQ(seen.timeout_us, 7u);

  params["sequence_start"].set_string_param("yes");
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT,
               "parameter 'sequence_start' must be a boolean");
  params["sequence_start"].set_bool_param(true);
  params["sequence_id"].set_double_param(1.5);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "parameter 'sequence_id' must be");
  params["sequence_id"].set_int64_param(-3);
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "must not be negative");
  params["sequence_id"].set_int64_param(1);
  params["timeout"].set_string_param("soon");
  expect_error(r, grpc::StatusCode::INVALID_ARGUMENT, "parameter 'timeout'");
}

TEST_F(GrpcFrontendTest, ConcurrentClientsGetTheirOwnAnswers) {
  // Inline (add_sub) and worker-thread (accum, one sequence per client) completions at once, on
  // the front end's several ModelInfer threads.
  constexpr int kClients = 6, kCalls = 40;
  std::vector<std::thread> clients;
  std::vector<int> wrong(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(100 + c);
      std::uniform_real_distribution<float> dist(-5.f, 5.f);
      float running = 0;
      for (int i = 0; i < kCalls; ++i) {
        pb::ModelInferRequest r;
        pb::ModelInferResponse resp;
        if (i % 2 == 0) {
          std::vector<float> a(4), b(4);
          for (int k = 0; k < 4; ++k) a[k] = dist(rng), b[k] = dist(rng);
          r.set_model_name("add_sub");
          for (const char* name : {"INPUT0", "INPUT1"}) {
            auto* in = r.add_inputs();
            in->set_name(name);
            in->set_datatype("FP32");
            in->add_shape(1);
            in->add_shape(4);
          }
          r.add_raw_input_contents(bytes_of(a));
          r.add_raw_input_contents(bytes_of(b));
          if (!infer(r, &resp).ok() || resp.raw_output_contents_size() != 2) {
            ++wrong[c];
            continue;
          }
          std::vector<float> diff = floats_of(resp.raw_output_contents(1));
          for (int k = 0; k < 4; ++k) wrong[c] += diff[k] != a[k] - b[k];
        } else {
          const float v = dist(rng);
          running += v;
          r = [&] {
            pb::ModelInferRequest q;
            q.set_model_name("accum");
            auto& p = *q.mutable_parameters();
            p["sequence_id"].set_string_param("client-" + std::to_string(c));
            p["sequence_start"].set_bool_param(i == 1);
            auto* in = q.add_inputs();
            in->set_name("INPUT");
            in->set_datatype("FP32");
            in->add_shape(1);
            in->add_shape(1);
            q.add_raw_input_contents(bytes_of({v}));
            return q;
          }();
          if (!infer(r, &resp).ok() || resp.raw_output_contents_size() != 1) {
            ++wrong[c];
            continue;
          }
          // The double sums in float in the same order, so the result is exact.
          wrong[c] += floats_of(resp.raw_output_contents(0)).at(0) != running;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(wrong[c], 0) << "client " << c;
}

// ---- streaming ---------------------------------------------------------------------------------

pb::ModelInferRequest accum_request(const std::string& id, float v, bool start, bool end) {
  pb::ModelInferRequest r;
  r.set_model_name("accum");
  r.set_id(id);
  auto& p = *r.mutable_parameters();
  p["sequence_id"].set_int64_param(7);
  p["sequence_start"].set_bool_param(start);
  p["sequence_end"].set_bool_param(end);
  auto* in = r.add_inputs();
  in->set_name("INPUT");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(1);
  r.add_raw_input_contents(bytes_of({v}));
  return r;
}

TEST_F(GrpcFrontendTest, StreamInferAnswersInOrderAndSurvivesErrors) {
  grpc::ClientContext ctx;
  deadline(&ctx);
  auto stream = stub_->ModelStreamInfer(&ctx);
  std::vector<float> a, b;
  pb::ModelInferRequest bad = add_sub_request(&a, &b);
  bad.set_model_name("nope");
  bad.set_id("bad");
  pb::ModelInferRequest add = add_sub_request(&a, &b);
  add.set_id("add");
  const std::vector<pb::ModelInferRequest> sent = {
      accum_request("s1", 1.5f, true, false),
      bad,
      accum_request("s2", 2.0f, false, false),
      add,
      accum_request("s3", -4.0f, false, true),
      accum_request("s4", 1.0f, false, false),  // the sequence has ended: an error
  };
  for (const auto& r : sent) ASSERT_TRUE(stream->Write(r));
  ASSERT_TRUE(stream->WritesDone());

  std::vector<pb::ModelStreamInferResponse> got(sent.size());
  for (auto& g : got) ASSERT_TRUE(stream->Read(&g));
  pb::ModelStreamInferResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  grpc::Status st = stream->Finish();
  EXPECT_TRUE(st.ok()) << st.error_message();

  // Running sums computed here: 1.5, 3.5, -0.5.
  auto sum_of = [](const pb::ModelStreamInferResponse& r) {
    return floats_of(r.infer_response().raw_output_contents(0)).at(0);
  };
  EXPECT_EQ(got[0].error_message(), "");
  EXPECT_EQ(got[0].infer_response().id(), "s1");
  EXPECT_FLOAT_EQ(sum_of(got[0]), 1.5f);
  EXPECT_EQ(got[1].error_message(), "unknown model 'nope'");
  EXPECT_EQ(got[1].infer_response().id(), "bad");
  EXPECT_EQ(got[2].infer_response().id(), "s2");
  EXPECT_FLOAT_EQ(sum_of(got[2]), 3.5f);
  EXPECT_EQ(got[3].infer_response().id(), "add");
  std::vector<float> sum = floats_of(got[3].infer_response().raw_output_contents(0));
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(sum[i], a[i] + b[i]);
  EXPECT_EQ(got[4].infer_response().id(), "s3");
  EXPECT_FLOAT_EQ(sum_of(got[4]), -0.5f);
  EXPECT_EQ(got[5].error_message(), "unknown sequence '7'");
  EXPECT_EQ(got[5].infer_response().id(), "s4");
}

// ---- configuration, statistics, repository ---------------------------------------------------

TEST_F(GrpcFrontendTest, ModelConfigCarriesTritonFieldsAndTheCoreJson) {
  grpc::ClientContext ctx;
  pb::ModelConfigRequest req;
  req.set_name("accum");
  pb::ModelConfigResponse resp;
  ASSERT_TRUE(stub_->ModelConfig(&ctx, req, &resp).ok());
  const pb::ModelConfig& c = resp.config();
  EXPECT_EQ(c.name(), "accum");
  EXPECT_EQ(c.platform(), "softdpu_onnx");
  EXPECT_EQ(c.backend(), "softdpu");
  EXPECT_EQ(c.max_batch_size(), 4);
  ASSERT_EQ(c.input_size(), 1);
  EXPECT_EQ(c.input(0).data_type(), pb::TYPE_FP32);
  ASSERT_EQ(c.input(0).dims_size(), 1);  // [-1, 1] without the batch dimension
  EXPECT_EQ(c.input(0).dims(0), 1);
  ASSERT_EQ(c.output_size(), 1);
  EXPECT_EQ(c.output(0).name(), "OUTPUT");
  ASSERT_EQ(c.parameters().count("softdpu_config_json"), 1u);
  EXPECT_EQ(c.parameters().at("softdpu_config_json").string_value(),
            R"({"name":"accum","max_batch_size":4,"sequence":{"idle_us":1}})");

  grpc::ClientContext ctx2;
  req.set_name("nope");
  EXPECT_EQ(stub_->ModelConfig(&ctx2, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext ctx3;
  req.set_name("status");
  resp.Clear();
  ASSERT_TRUE(stub_->ModelConfig(&ctx3, req, &resp).ok());
  EXPECT_EQ(resp.config().max_batch_size(), 0);
  EXPECT_EQ(resp.config().input(0).name(), "CODE");
  EXPECT_EQ(resp.config().input(0).data_type(), pb::TYPE_INT32);
  EXPECT_EQ(resp.config().parameters().at("softdpu_config_json").string_value(),
            "max_batch_size = 4");
}

TEST_F(GrpcFrontendTest, ModelStatisticsParsesTheCoreJson) {
  grpc::ClientContext ctx;
  pb::ModelStatisticsRequest req;
  req.set_name("add_sub");
  pb::ModelStatisticsResponse resp;
  grpc::Status st = stub_->ModelStatistics(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.model_stats_size(), 1);
  const pb::ModelStatistics& s = resp.model_stats(0);
  EXPECT_EQ(s.name(), "add_sub");
  EXPECT_EQ(s.last_inference(), 1700000000123u);
  EXPECT_EQ(s.inference_count(), 7u);
  EXPECT_EQ(s.execution_count(), 5u);
  EXPECT_EQ(s.inference_stats().fail().count(), 2u);
  EXPECT_EQ(s.inference_stats().compute_infer().ns(), 5000u);
  ASSERT_EQ(s.batch_stats_size(), 1);
  EXPECT_EQ(s.batch_stats(0).batch_size(), 1u);

  grpc::ClientContext ctx2;
  req.set_name("nope");
  EXPECT_EQ(stub_->ModelStatistics(&ctx2, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext ctx3;
  req.set_name("status");
  st = stub_->ModelStatistics(&ctx3, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(st.error_message().find("model_stats layout"), std::string::npos) << st.error_message();
}

TEST_F(GrpcFrontendTest, RepositoryIndexLoadUnload) {
  {
    grpc::ClientContext ctx;
    pb::RepositoryIndexResponse resp;
    ASSERT_TRUE(stub_->RepositoryIndex(&ctx, {}, &resp).ok());
    ASSERT_EQ(resp.models_size(), 3);
    EXPECT_EQ(resp.models(2).name(), "broken");
    EXPECT_EQ(resp.models(2).state(), "UNAVAILABLE");
    EXPECT_EQ(resp.models(2).reason(), "model.onnx: not an ONNX model");
  }
  {
    grpc::ClientContext ctx;
    pb::RepositoryIndexRequest req;
    req.set_ready(true);
    pb::RepositoryIndexResponse resp;
    ASSERT_TRUE(stub_->RepositoryIndex(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.models_size(), 2);
  }
  auto load = [&](const std::string& name, bool with_params) {
    grpc::ClientContext ctx;
    pb::RepositoryModelLoadRequest req;
    req.set_model_name(name);
    if (with_params) (*req.mutable_parameters())["config"].set_string_param("{}");
    pb::RepositoryModelLoadResponse resp;
    return stub_->RepositoryModelLoad(&ctx, req, &resp);
  };
  EXPECT_TRUE(load("add_sub", false).ok());
  EXPECT_EQ(load("nope", false).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(load("broken", false).error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(load("add_sub", true).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext ctx;
  pb::RepositoryModelUnloadRequest req;
  req.set_model_name("nope");
  pb::RepositoryModelUnloadResponse resp;
  EXPECT_EQ(stub_->RepositoryModelUnload(&ctx, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcFrontendTest, ClientThatGoesAwayMidRequestDoesNotHurtTheServer) {
  // Unary: the client gives up after 50 ms while the core still works for 300 ms.
  pb::ModelInferRequest slow;
  slow.set_model_name("slow");
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(50));
    pb::ModelInferResponse resp;
    EXPECT_EQ(stub_->ModelInfer(&ctx, slow, &resp).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  expect_good_call();
  // Stream: the client cancels while its request runs.
  {
    grpc::ClientContext ctx;
    deadline(&ctx);
    auto stream = stub_->ModelStreamInfer(&ctx);
    ASSERT_TRUE(stream->Write(slow));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx.TryCancel();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  expect_good_call();
  // The core answers the abandoned calls later; the server takes those answers and keeps serving.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  expect_good_call();
}

// ---- shutdown ----------------------------------------------------------------------------------

TEST_F(GrpcFrontendTest, StopDrainsInFlightCallsAndEndsIdleStreams) {
  // An idle stream: it has sent nothing and waits.
  grpc::ClientContext stream_ctx;
  deadline(&stream_ctx);
  auto stream = stub_->ModelStreamInfer(&stream_ctx);

  // A call the core takes 300 ms to answer, in flight when stop() begins.
  grpc::Status slow_status;
  pb::ModelInferResponse slow_resp;
  std::thread caller([&] {
    pb::ModelInferRequest r;
    r.set_model_name("slow");
    r.set_id("slow-1");
    slow_status = infer(r, &slow_resp);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  frontend_->stop(5000);
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  caller.join();

  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(slow_resp.id(), "slow-1");
  EXPECT_LT(stop_s, 3.0);  // drained, not waiting for the idle stream until the deadline
  pb::ModelStreamInferResponse none;
  EXPECT_FALSE(stream->Read(&none));
  EXPECT_FALSE(stream->Finish().ok());

  // New calls are refused.
  pb::ModelInferResponse resp;
  std::vector<float> a, b;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  EXPECT_FALSE(stub_->ModelInfer(&ctx, add_sub_request(&a, &b), &resp).ok());
}

}  // namespace
}  // namespace softdpu::server
