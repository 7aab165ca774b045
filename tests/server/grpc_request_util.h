// gRPC test support for the tests that run the real core behind the gRPC front end: a
// ModelInferRequest carrying one FP32 tensor as raw contents.
#pragma once

#include "grpc_predict_v2.grpc.pb.h"
#include "softdpu/tensor.h"

namespace softdpu::server::testing {

inline ::inference::ModelInferRequest fp32_infer_request(const std::string& model,
                                                         const std::string& input,
                                                         const Tensor& x) {
  ::inference::ModelInferRequest req;
  req.set_model_name(model);
  auto* in = req.add_inputs();
  in->set_name(input);
  in->set_datatype("FP32");
  for (int64_t d : x.shape()) in->add_shape(d);
  req.add_raw_input_contents(std::string(static_cast<const char*>(x.data()), x.nbytes()));
  return req;
}

}  // namespace softdpu::server::testing
