# catmesh: the commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup deps build proto lint test test-only bench soak jepsen demo

help:
	@echo "make demo    set up, build and run the whole mesh here (Ctrl-C stops it; ARGS=\"--replicas 5\")"
	@echo "make test    set up, lint, build and run every test"
	@echo "make setup   install npm and system dependencies"
	@echo "make build   compile every package and service"
	@echo "make lint    lint, typecheck, buf lint, generated-code drift check"
	@echo "make proto   regenerate packages/proto from the .proto sources"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make soak    run the Raft simulator over many seeds (SEEDS=20000 START=1001)"
	@echo "make jepsen  Jepsen-style correctness check (DURATION=5m SEED=1 TARGET=cat-feeder READS=linearizable)"

# The test suite checks cat-feeder against etcd, so setup installs etcd too.
setup: deps
	./scripts/setup-system.sh jepsen

# npm ci only when the lockfile changed since the last install.
deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: deps
	npx tsc -b tsconfig.build.json

proto: deps
	cd packages/proto && npx buf lint && npx buf generate && npx buf build -o descriptors/catmesh.binpb

lint: deps
	npx eslint .
	npx prettier --check .
	npx tsc -p tsconfig.json --noEmit
	cd packages/proto && npx buf lint
	./packages/proto/scripts/check-generated.sh

demo: setup build
	node packages/cli/dist/bin/catmesh.js up $(ARGS)

test: setup lint build
	npx vitest run

# Tests only, for the edit-test loop (assumes setup has run).
test-only: build
	npx vitest run

bench: setup build
	./scripts/setup-system.sh bench
	node --conditions=@catmesh/source --import tsx packages/raft/bench/core.ts
	node --conditions=@catmesh/source --import tsx packages/raft/bench/wal.ts
	node --conditions=@catmesh/source --import tsx test/bench/catfeeder-vs-etcd.ts
	node --conditions=@catmesh/source --import tsx test/bench/fault-gate-overhead.ts

soak: deps
	node --conditions=@catmesh/source --import tsx packages/raft/scripts/simulate.ts --seeds $${SEEDS:-20000} --start $${START:-1001}

DURATION ?= 5m
SEED ?= 1
TARGET ?= cat-feeder
NEMESIS ?= partition-random-halves,partition-isolate-leader,kill,pause
READS ?= linearizable

# Jepsen-style check (needs root): make jepsen DURATION=60s SEED=7 TARGET=etcd READS=stale
jepsen: setup build
	node packages/cli/dist/bin/catmesh.js check \
	  --target $(TARGET) --duration $(DURATION) --seed $(SEED) --nemesis $(NEMESIS) \
	  --read-consistency $(READS)
