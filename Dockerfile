# syntax=docker/dockerfile:1
# One image for every catmesh service: the chart picks the service by its command
# (`node services/<name>/dist/main.js`), the helm test Job runs the CLI from the same image.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY packages/ packages/
COPY services/ services/
# --omit=peer: the kubectl layer's peer (aws-cdk-lib, 160 MB) serves the chart tests, not the build.
RUN npm ci --no-audit --no-fund --omit=peer \
 && npx tsc -b tsconfig.build.json \
 && node --import tsx services/dashboard/scripts/build-page.ts \
 && npm prune --omit=dev --no-audit --no-fund
# Only what runs: each workspace's manifest and built output, the proto descriptors that server
# reflection reads, the CLI's bin wrapper, and the production node_modules (workspace links
# included). Sources, tests and the test kit stay behind.
RUN mkdir /out \
 && cp -a package.json node_modules /out/ \
 && for dir in packages/* services/*; do \
      [ "$dir" = packages/testkit ] && continue; \
      mkdir -p "/out/$dir" && cp -a "$dir/package.json" "$dir/dist" "/out/$dir/"; \
    done \
 && cp -a packages/proto/descriptors /out/packages/proto/ \
 && cp -a packages/cli/bin /out/packages/cli/ \
 && rm -f /out/node_modules/@catmesh/testkit

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/ /app/
# A numeric user, so that Kubernetes can check runAsNonRoot without reading /etc/passwd. The
# files stay root-owned and the root file system can be read-only: state lives on volumes
# (cat-feeder's CATMESH_DATA_DIR, /tmp as an emptyDir).
USER 10001:10001
# node runs as PID 1 and handles SIGTERM itself (every service installs the graceful shutdown
# handler), so no init wrapper is needed to forward it; the exec form keeps a shell out of the way.
CMD ["node", "packages/cli/dist/bin/catmesh.js", "--help"]
