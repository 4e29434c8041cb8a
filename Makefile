# SPDX-License-Identifier: GPL-3.0-or-later
# The two commands: `make demo` and `make check`. Both install what is missing first.
PREFIX ?= /usr/local
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# 17 harnesses (fuzz/fuzz_*.c) x 15 s + start-up: under 5 minutes in all.
FUZZ_SECONDS ?= 15
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)
DEMO_OUT ?= out/demo

.PHONY: all deps build demo check test asan fuzz bench install format clean

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DFP_WERROR=ON -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD)

# Build with -Werror, run every test, then the unit and e2e tests again under
# ASan+UBSan, then each parser's libFuzzer harness for FUZZ_SECONDS.
check: deps
	$(MAKE) build
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	$(MAKE) asan
	$(MAKE) fuzz

test: build
	cd $(BUILD) && ctest $(CTEST_FLAGS)

asan:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DFP_WERROR=ON -DFP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD)
	cd $(ASAN_BUILD) && ctest $(CTEST_FLAGS) -L 'unit|e2e'

fuzz:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DFP_WERROR=ON -DFP_FUZZ=ON -DFP_TESTS=OFF
	cmake --build $(FUZZ_BUILD)
	sh scripts/run-fuzzers.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

demo: deps
	$(MAKE) build
	sh scripts/demo.sh $(BUILD)/bin/freqpilot $(DEMO_OUT)

bench: deps
	$(MAKE) build
	sh scripts/bench.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) out
