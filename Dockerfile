# wirelab in a container. Build: docker build -t wirelab .
#   one host, one lab at a time, in the container's own network namespace:
#     docker run --rm --cap-add NET_ADMIN --cap-add NET_RAW -v "$PWD/captures:/app/captures" wirelab run handshake
#   every lab, each in its own namespaces (two hosts, a router), with its own sysctls:
#     docker run --rm --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN \
#       --security-opt systempaths=unconfined -v "$PWD/captures:/app/captures" wirelab run --all
#   two containers, one connection seen from both ends: docker compose up (compose.yaml)

# Stage 1: the TypeScript build and raw-socket's native addon (python3, make, g++ stay here).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# node-gyp builds raw-socket against this image's own Node headers (/usr/local/include/node): no download.
RUN npm_config_nodedir=/usr/local npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY src ./src
COPY labs ./labs
COPY bench ./bench
RUN node node_modules/typescript/bin/tsc -p tsconfig.json \
 && rm -rf dist/bench \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

# Stage 2: what runs the labs. The tools come from Debian (procps: sysctl, which labs run mid-lab); python3 runs the lab programs node:net cannot
# be (a TCP Fast Open client, a listener that never accepts). Kernel events (bpftrace) are opt-in: they
# more than double the image (316 -> 712 MB measured) and need --cap-add SYS_ADMIN at run time:
#   docker build --build-arg RUNTIME_PACKAGES="tcpdump nftables iproute2 procps python3 ethtool bpftrace" -t wirelab .
FROM node:20-bookworm-slim
ARG RUNTIME_PACKAGES="tcpdump nftables iproute2 procps python3 ethtool"
#   docker build --build-arg RUNTIME_PACKAGES="tcpdump nftables iproute2 procps ethtool python3 bpftrace" -t wirelab .
ARG RUNTIME_PACKAGES="tcpdump nftables iproute2 procps ethtool python3"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /app
ENV NODE_ENV=production WIRELAB_IN_CONTAINER=1
COPY package.json tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Python lab programs run from their source (labs/programs/*.py); the TypeScript ones from dist/.
COPY labs/programs/*.py ./labs/programs/
RUN mkdir -p captures && touch dist/.build-stamp

ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run", "--all"]
