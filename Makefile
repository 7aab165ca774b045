# Thin wrappers over scripts/ and CMake. The two commands a new user needs:
#   make serve   install dependencies, build, run the main job on the bundled models
#   make test    install dependencies, build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
MODELS := fashion_mlp fashion_cnn fashion_lstm fashion_gru

.PHONY: deps deps-peers build serve test test-asan bench bench-peers format format-check clean

deps:
	scripts/install-deps

# Node.js + onnxruntime-node, LibTorch + OpenBLAS, Debian's torch/onnx/numpy: the peer benchmarks
# and their CTest check (label peers) need them.
deps-peers: deps
	scripts/install-peer-deps

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the bundled models behind the KServe v2 microservice (docs/serving.md).
serve: build
	@echo "Once 'ready' shows, try (from another shell):"
	@echo "  curl -s localhost:8000/v2/models/fashion_mlp"
	@echo "  curl -s -X POST localhost:8000/v2/models/fashion_mlp/infer -H 'Content-Type: application/json' \\"
	@echo "    -d '{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":'\"\$$(python3 -c 'print([0.5]*784)')\"'}]}'"
	@echo "  curl -s localhost:8002/metrics | head"
	@echo
	$(BUILD)/softdpu serve

# deps-peers first so that the LibTorch peer is configured and the peers test runs, not skips.
test: deps-peers build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (CI runs this too). Optimised
# (-O2 -g), as the sanitizers recommend: the SIMD kernels rely on `flatten` inlining their vector
# helpers, which an -O0 build does not do.
test-asan: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
	  -DSOFTDPU_SANITIZE=address,undefined -DSOFTDPU_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) -LE 'conformance|accuracy'

bench: build
	$(BUILD)/bench/softdpu_bench_kernels --benchmark_min_time=0.2
	@for m in $(MODELS); do $(BUILD)/softdpu bench models/$$m/1/model.onnx --json || exit 1; done

# softdpu vs ONNX Runtime vs LibTorch at batch 1 (docs/benchmarks.md). PEERS_ARGS is passed to
# bench/peers/run.py (e.g. PEERS_ARGS="--rounds 3 --models lstm_h1024").
PEERS_ARGS ?=
bench-peers: deps-peers build
	/usr/bin/python3 bench/peers/make_models.py --out $(BUILD)/peer-models
	/usr/bin/python3 bench/peers/run.py --build $(BUILD) $(PEERS_ARGS)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(BUILD)-asan
