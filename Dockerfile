# wirelab in a container: labs run in namespaces inside the container's own network.
#   docker build -t wirelab .
#   docker run --rm --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SYS_ADMIN \
#     --security-opt systempaths=unconfined -v "$PWD/captures:/app/captures" wirelab run --all
# SYS_ADMIN: each lab gets its own namespace inside the container (ip netns mounts /run/netns; where
#  AppArmor is on, add --security-opt apparmor=unconfined). systempaths=unconfined lets labs set their
#  per-namespace sysctls; without it /proc/sys is read-only and a lab that needs a sysctl says so.
FROM node:20-bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tcpdump nftables iptables iproute2 procps python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# raw-socket is a native addon: build it against this node's own headers (no downloads).
RUN npm_config_nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')" \
    npm ci --no-audit --no-fund --loglevel=error

COPY tsconfig.json ./
COPY src ./src
COPY labs ./labs
COPY bench ./bench
RUN npx tsc -p tsconfig.json && touch dist/.build-stamp && mkdir -p captures

ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run", "--all"]
