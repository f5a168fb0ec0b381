# syntax=docker/dockerfile:1
# The one Xander image: `xander controller` (the Deployment) and `xander agent` (the DaemonSet).
#
#   docker build -t ghcr.io/xander/xander:$(node -p "require('./package.json').version") .

# Build: better-sqlite3 is a native module, compiled here (or fetched prebuilt) against this glibc and
# Node ABI; the runtime stage below has the same Debian release and Node major, so the binary loads there.
FROM node:22-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json tsconfig.web.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

# Runtime: production dependencies, the compiled CLI and the CRDs; no compiler, no npm cache, no sources.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json: the CLI reads its version from it.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY crds ./crds
# Non-root by default (the controller runs as this user); the agent's pod spec sets runAsUser 0 itself,
# to write its history in the root-owned hostPath /var/lib/xander.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/bin/xander.js"]
