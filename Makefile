# peerwire — every developer and CI entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
MATURIN_PROFILE ?= release
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
CACHE := .cache
HARNESS := $(CACHE)/peerwire-interop
RUST_SRC := $(shell find rust -name '*.rs' -o -name Cargo.toml) Cargo.toml Cargo.lock
PY_DEPS := pyproject.toml

.PHONY: help
help:  ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): $(PY_DEPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.8,<2"
	touch $(STAMP)

$(VENV)/.built: $(STAMP) $(RUST_SRC) $(shell find python -type f)
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --profile $(MATURIN_PROFILE) --locked -q -E dev
	touch $@

.PHONY: install
install: $(VENV)/.built  ## Create .venv, build the extension (release) and install peerwire with dev tools

.PHONY: build
build: install  ## Build the extension into .venv (alias of install)

$(HARNESS): $(shell find tests/interop/go -name '*.go' -o -name 'go.mod' -o -name 'go.sum')
	@command -v go >/dev/null || { echo "error: Go >= 1.24 is needed for the interop harness (tests/interop/go)"; exit 1; }
	mkdir -p $(CACHE)
	cd tests/interop/go && go build -o $(abspath $(HARNESS)) .

.PHONY: harness
harness: $(HARNESS)  ## Build the Go interop harness (go-ethereum + gno) into .cache/

GNO_VERSION := v1.7.1
GNOLAND := $(CACHE)/bin/gnoland

$(GNOLAND):
	@command -v go >/dev/null || { echo "error: Go >= 1.24 is needed to build gnoland $(GNO_VERSION)"; exit 1; }
	mkdir -p $(CACHE)/bin
	GOBIN=$(abspath $(CACHE)/bin) go install github.com/gnolang/gno/gno.land/cmd/gnoland@$(GNO_VERSION)

.PHONY: gnoland
gnoland: $(GNOLAND)  ## Build the real gnoland node (gno $(GNO_VERSION)) into .cache/bin for the gno.land tests
# Real geth for the eth interop tests: built once from the Go module proxy at the harness's
# version (Go's module and build caches live outside the repo, so later builds are quick).
GETH_VERSION := v1.17.5
GETH := $(CACHE)/bin/geth
$(GETH):
	@command -v go >/dev/null || { echo "error: Go >= 1.24 is needed to build geth for the eth interop tests"; exit 1; }
	mkdir -p $(CACHE)/bin
	GOBIN=$(abspath $(CACHE)/bin) go install github.com/ethereum/go-ethereum/cmd/geth@$(GETH_VERSION)

.PHONY: geth
geth: $(GETH)  ## Build go-ethereum's geth (GETH_VERSION) into .cache/bin for the eth interop tests

.PHONY: lint
lint: install  ## ruff, cargo fmt --check, clippy -D warnings
	$(BIN)/ruff check python tests benches examples tools
	$(BIN)/ruff format --check python tests benches examples tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --release --locked -- -D warnings

.PHONY: format
format: install  ## Apply ruff format and cargo fmt
	$(BIN)/ruff check --fix python tests benches examples tools
	$(BIN)/ruff format python tests benches examples tools
	cargo fmt --all

.PHONY: typecheck
typecheck: install  ## mypy --strict on python/, stubtest of _core against the .pyi stubs
	$(BIN)/mypy --strict python/peerwire
	$(BIN)/mypy --strict examples
	$(BIN)/python -m mypy.stubtest peerwire._core --allowlist .mypy-stubtest-allowlist

.PHONY: test-rust
test-rust:  ## cargo test for the core crate
	cargo test -p peerwire-core --release --locked -q

.PHONY: pytest
pytest: install harness gnoland geth  ## pytest, all tests including slow and interop ones
	$(BIN)/pytest -q

# Deterministic regression gate: callgrind instruction counts of the hot paths (needs valgrind).
.PHONY: icount
icount:  ## Hot-path instruction counts (callgrind) vs tools/icount_baseline.json; fails above +3%
	$(PYTHON) tools/icount.py

.PHONY: icount-update
icount-update:  ## Re-measure the instruction-count baseline after an intended change (commit it)
	$(PYTHON) tools/icount.py --update

.PHONY: test
test: lint typecheck test-rust icount fuzz-smoke pytest  ## Everything CI checks: lint, types, Rust tests, icount, a short fuzz pass, pytest

.PHONY: test-fast
test-fast: install  ## pytest without slow tests
	$(BIN)/pytest -q -m "not slow"

.PHONY: bench
bench: install harness  ## Run the benchmarks (pytest-benchmark) and the Rust keccak candidates
	$(BIN)/pytest benches -q --benchmark-enable --benchmark-only --benchmark-columns=min,mean,ops --benchmark-sort=name
	cargo bench -p peerwire-core --bench keccak -- --warm-up-time 1 --measurement-time 3

# Fuzzing (rust/fuzz, its own cargo workspace: nightly + cargo-fuzz, never part of `cargo build`).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: fuzz
fuzz: cargo-fuzz  ## Run every cargo-fuzz target for FUZZ_SECONDS each (FUZZ_RUNS caps executions); results in target/fuzz-results.txt
	FUZZ_SECONDS=$(FUZZ_SECONDS) rust/fuzz/run.sh $(FUZZ_TARGETS)

# cargo-fuzz from crates.io into ~/.cargo/bin (outside the repo, kept between runs).
.PHONY: cargo-fuzz
cargo-fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked -q
	@cargo +nightly --version >/dev/null 2>&1 || { echo "error: the nightly toolchain is needed for fuzzing (rustup toolchain install nightly)"; exit 1; }

.PHONY: fuzz-smoke
fuzz-smoke: cargo-fuzz  ## Short pass of every fuzz target (FUZZ_SMOKE_SECONDS each), replaying the saved regressions first
	rust/fuzz/replay.sh
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) FUZZ_UNIT_TIMEOUT=60 FUZZ_LOG=target/fuzz-smoke.txt rust/fuzz/run.sh $(FUZZ_TARGETS)

.PHONY: fuzz-py
fuzz-py: install  ## atheris harnesses for the Python parsers of untrusted input (FUZZ_SECONDS each)
	$(PY) -m pip install -q "atheris>=2.3"
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) tests/fuzz_py/run.py

.PHONY: testnet
testnet: install  ## The main job: a local devp2p + TM2 testnet with a live view (TESTNET_ARGS="--nodes 4")
	$(BIN)/peerwire testnet $(TESTNET_ARGS)

# The docs toolchain is the `docs` extra of pyproject.toml, kept out of `dev` so the
# default install stays fast; installed here on first use.
$(VENV)/.docs: $(STAMP)
	$(PY) -m pip install -q "mkdocs>=1.6" "mkdocstrings[python]>=0.26"
	touch $@

.PHONY: docs
docs: install $(VENV)/.docs  ## Build the documentation site (mkdocs + mkdocstrings) into site/
	$(BIN)/mkdocs build --strict --site-dir site

# `peerwire bench` builds the Go harness from sources shipped in the wheel (gitignored copy).
BENCH_HARNESS_SRC := python/peerwire/bench/harness_src

.PHONY: harness-src
harness-src:  ## Copy the Go harness sources into the package (shipped in the wheel for `peerwire bench`)
	rm -rf $(BENCH_HARNESS_SRC) && mkdir -p $(BENCH_HARNESS_SRC)
	cp tests/interop/go/*.go tests/interop/go/go.mod tests/interop/go/go.sum $(BENCH_HARNESS_SRC)/

.PHONY: wheel
wheel: install harness-src  ## Build the release wheel and sdist into dist/
	$(BIN)/maturin build --release --locked --out dist
	$(BIN)/maturin sdist --out dist

.PHONY: clean
clean:  ## Remove build artefacts (keeps Go and cargo caches)
	rm -rf $(VENV) $(CACHE) dist target site .mypy_cache .pytest_cache .ruff_cache

.PHONY: sim-long
sim-long: install  ## the long simulator scenario tests (tests/sim, marker sim_long)
	PEERWIRE_SIM_LONG=1 $(BIN)/pytest -q tests/sim
