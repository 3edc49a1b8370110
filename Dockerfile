# rcbs container image, used by deploy/kubernetes/ and deploy/aws-batch/.
#   docker build -t <your registry>/rcbs:0.1.0 .
# Stage 1 builds (TypeScript needs the dev dependencies) and packs exactly what
# package.json's "files" ships; stage 2 installs that package with the production
# dependencies only, pinned by package-lock.json, and runs as the unprivileged
# `node` user. test/packaged-install.test.ts runs these same steps without Docker
# (npm pack, unpack, npm ci --omit=dev, rcbs --version, a sandbox backup).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY pipelines ./pipelines
COPY schemas ./schemas
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/rcbs-*.tgz /tmp/rcbs.tgz

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /opt/rcbs
COPY --from=build /tmp/rcbs.tgz /tmp/rcbs.tgz
COPY --from=build /src/package-lock.json ./
RUN tar -xzf /tmp/rcbs.tgz --strip-components=1 -C /opt/rcbs \
 && rm /tmp/rcbs.tgz \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && chmod 0755 dist/cli.js \
 && ln -s /opt/rcbs/dist/cli.js /usr/local/bin/rcbs
# The backup volume is mounted at /backup; the config at /config.
USER node
# No ENTRYPOINT: Kubernetes sets `command: ["rcbs"]`; AWS Batch runs `sh -c "exec rcbs …"`
# to expand $AWS_BATCH_JOB_ARRAY_INDEX.
CMD ["rcbs", "--help"]
