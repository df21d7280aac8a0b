# The vmware-dr image: `vmware-dr worker` by default, `vmware-dr simulator` for the compose stack.
# Debian (glibc) Node: the Temporal core bridge ships prebuilt for glibc, not musl (no Alpine).
ARG NODE_VERSION=20.19.5-bookworm-slim

FROM node:${NODE_VERSION} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc, then the workflow bundle (dist/workflow-bundle.js): no bundling when the worker starts.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The simulator keeps its CA and certificate here (a volume the worker mounts read-only).
RUN mkdir -p /var/lib/vmware-dr/pki && chown node:node /var/lib/vmware-dr/pki
USER node
# Prometheus /metrics of the worker.
EXPOSE 9464
# `vmware-dr worker` requires VMWARE_DR_POLICY: mount the operator's credential policy read-only
# (docker-compose.yml: examples/policy-compose.yaml at /etc/vmware-dr/policy.yaml), secrets under /run/secrets.
ENTRYPOINT ["node", "bin/vmware-dr.js"]
CMD ["worker"]
