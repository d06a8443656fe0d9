# The two commands a user needs: `make demo` (the main job) and `make test`.
# Both run set-up (Debian + npm packages) and the build first when missing.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache: hits across checkouts of this repository (a CI clone reuses what a
# developer's tree compiled): paths relative to the checkout, and the working
# directory left out of the hash of -g builds.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup build demo test test-unit test-interop test-fuzz bench clean

all: build

$(BUILD)/.setup-done: scripts/setup.sh package-lock.json
	bash scripts/setup.sh
	mkdir -p $(BUILD) && touch $@

setup: $(BUILD)/.setup-done

$(BUILD)/build.ninja: | $(BUILD)/.setup-done
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: $(BUILD)/.setup-done $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/syndb demo

# All tests: unit, interop (real js-libp2p peers) and bounded fuzzing.
# CI runs this under AddressSanitizer + UBSan (see .ci/run).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1800

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

test-interop: build
	cd $(BUILD) && ctest --output-on-failure -L interop

test-fuzz: build
	cd $(BUILD) && ctest --output-on-failure -L fuzz

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) build-fuzz
