# syntax=docker/dockerfile:1
#
# dockmap's image: a static binary on distroless, run as a non-root user.
# Needs BuildKit (the default builder since Docker 23) for the cache mounts:
#
#   docker build --build-arg VERSION="$(git describe --always --dirty)" -t dockmap .
#
# Run it as README.md says ("In a container"): publish the port on the
# host's 127.0.0.1 only, never with --network host.
#
# The final stage's ENV, USER, EXPOSE and ENTRYPOINT (and the path the binary
# is copied to) are repeated in Dockerfile.prebuilt, which the tests build
# from a locally built binary because nothing can be pulled there;
# TestImageDockerfilesAgree (cmd/web/image_test.go) fails when they drift apart.

# The Go in this image must be at least the go line of go.mod (the image
# sets GOTOOLCHAIN=local, so it will not download a newer one).
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, in their own layer, so that editing code does not fetch
# them again; the cache mounts keep modules and compiled packages across
# builds without putting them in any layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/dockmap ./cmd/web

# distroless/static rather than scratch: it has no shell and no package
# manager either, but it does ship /etc/passwd and /etc/group with the
# nonroot user (65532), a sticky /tmp, CA certificates and tzdata, and its
# maintainers rebuild it for CVEs. The numeric USER below does not depend on
# its passwd, which is why Dockerfile.prebuilt can use scratch.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="dockmap" \
      org.opencontainers.image.description="Live map of how Docker containers connect. Holds the Docker socket: publish it on 127.0.0.1 only." \
      org.opencontainers.image.source="https://github.com/dockmap/dockmap" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/dockmap /dockmap
# The engine's socket, bind-mounted by `docker run` (README.md). This is the
# SDK's default too; it is spelled out so `docker inspect` says where
# dockmap expects it.
ENV DOCKER_HOST=unix:///var/run/docker.sock
# Not root: the process gets the socket's group with `docker run --group-add`
# and nothing else. (Whoever drives the socket is still root on the host;
# this only keeps a bug in dockmap from being root in its container too.)
USER 65532:65532
EXPOSE 8080
# 0.0.0.0 is the container's own network namespace: the only way in is the
# port `docker run -p` publishes. The flag that allows a non-loopback
# address without access control is safe ONLY because README.md's
# `docker run` publishes the port on the host's 127.0.0.1
# (-p 127.0.0.1:8080:8080). Publishing it on every interface (-p 8080:8080)
# or running with --network host gives root on this host to anyone who can
# reach the port.
ENTRYPOINT ["/dockmap", "--addr", "0.0.0.0:8080"]
