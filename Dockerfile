# Inlet: one static Go binary (templates, static assets and migrations are
# embedded) on a distroless base, running as a non-root user.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t inlet .
# No "# syntax=" line on purpose: it makes BuildKit pull a frontend image from
# a registry, which fails offline or behind a mirror; the built-in frontend
# reads everything here (RUN --mount included).

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so editing code does not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# CGO off: the embedded SQLite driver is pure Go, and a static binary runs on
# an image with no C library. /out/data becomes /data, owned by the user.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/inlet ./cmd/inlet \
    && mkdir -p /out/data

# Static distroless: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
# On PATH as `inlet`, so `docker compose exec inlet inlet secret set` and the
# hints in the log work as written.
COPY --from=build /out/inlet /usr/local/bin/inlet
COPY --from=build --chown=65532:65532 /out/data /data
ENV LISTEN_ADDR=:8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json
# 65532 is distroless's "nonroot"; numeric so runAsNonRoot can check it.
USER 65532:65532
# No VOLUME: an anonymous volume would be left behind at every container
# recreate, and a SQLite user would silently start empty. Mount a named volume
# (or a folder) at /data yourself: docker run -v inlet-data:/data …
EXPOSE 8080
# No curl in distroless: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/inlet", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/inlet"]
CMD ["serve"]
