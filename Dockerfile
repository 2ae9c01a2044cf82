# appnet-agent on the official Envoy image. Build:
#
#   docker build -t appnet-agent-envoy .
#   docker build --build-arg ENVOY_IMAGE=envoyproxy/envoy:v1.40.N@sha256:DIGEST -t appnet-agent-envoy .
#
# ENVOY_IMAGE is the image the agent is added to: by default Envoy 1.40, the release whose API
# the validator decodes (go-control-plane envoy v1.40.0). Pin a patch release by digest for a
# reproducible image. The App Mesh bootstrap needs an Envoy older than 1.35 (README).
# The same layout, user, environment and health check are built without a daemon by
# `make image` (scripts/build-image.sh) and smoke-tested by e2e/image_test.go, which also
# checks that this file and that image agree.
ARG ENVOY_IMAGE=envoyproxy/envoy:v1.40-latest
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# Static (no libc needed), without the build machine's paths or build ID: the same source and
# Go version give the same bytes as `make release`. appnet-agent is the lean build (the tag),
# appnet-agent-full the full one; both stamped with the version and commit.
RUN LDFLAGS="-s -w -buildid= -X github.com/appnet/appnet-agent/internal/cli.version=${VERSION} -X github.com/appnet/appnet-agent/internal/cli.commit=${COMMIT}" \
 && CGO_ENABLED=0 go build -tags appnet_lean -trimpath -ldflags "$LDFLAGS" -o /out/appnet-agent . \
 && CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o /out/appnet-agent-full . \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -buildid=" \
      -o /out/appnet-agent-supervisor ./cmd/appnet-agent-supervisor

FROM ${ENVOY_IMAGE}
# The generated bootstraps trust the CA bundle at /etc/pki/tls/cert.pem (Amazon Linux's path,
# where the reference image has it); Envoy's Ubuntu image keeps it in /etc/ssl/certs.
# /var/run/ecs holds the management API's Unix socket and must be writable by the agent.
RUN mkdir -p /etc/pki/tls /var/run/ecs \
 && ln -sf /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/cert.pem \
 && chown 1337:1337 /var/run/ecs
# Three binaries, side by side (they find each other by their directory): appnet-agent, the
# entry point, renders the built-in templates with the lean validator and, once the bootstrap is
# written, execs appnet-agent-supervisor, the process that lives as long as the task and does
# not hold the Envoy API's code (issue 19); for user input (files, fragments, templates),
# validate and golden it execs appnet-agent-full.
COPY --from=build --chown=0:0 --chmod=755 /out/appnet-agent /out/appnet-agent-full /out/appnet-agent-supervisor /usr/bin/
# The agent finds Envoy here; the management API listens on /var/run/ecs/appnet_admin.sock (as
# in Service Connect), which the health check asks once per run (the orchestrator retries).
ENV APPNET_ENVOY_PATH=/usr/local/bin/envoy \
    APPNET_AGENT_ADMIN_MODE=uds \
    APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=0
# 1337: the uid App Mesh's traffic redirection leaves alone (proxyConfiguration IgnoredUID).
USER 1337:1337
# The agent renders the bootstrap, starts Envoy, and drains it on SIGTERM (exit 0).
ENTRYPOINT ["/usr/bin/appnet-agent"]
CMD []
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["/usr/bin/appnet-agent", "-envoyReadiness"]
