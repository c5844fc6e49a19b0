# syntax=docker/dockerfile:1
# The regroup container image: a static musl binary on distroless, run as a
# non-root user. Two final stages:
#   runtime (the default): gcr.io/distroless/static, CA certificates and
#            tzdata only, no shell; ENTRYPOINT ["regroup"].
#   debug:   the same binary on distroless's busybox variant, for CI systems
#            that run job scripts inside the image (GitLab CI).
#
#   docker build -t regroup .                          # from crates.io
#   cargo vendor --locked vendor && docker build -t regroup .   # offline: uses vendor/
#   docker build --target debug -t regroup:debug .
#   docker build --build-arg BINARY=prebuilt -t regroup .   # packages dist/regroup
#   docker run --rm regroup --version
#
# See docs/install.md.

ARG RUST_VERSION=1
# Where the image's binary comes from: `build` compiles it below; `prebuilt`
# takes dist/regroup from the build context without compiling (the release
# workflow puts the attested release binary there, so the image runs the
# very bytes the release's SHA256SUMS and provenance cover). BuildKit builds
# only the stages a target needs, so the other one costs nothing.
ARG BINARY=build
FROM rust:${RUST_VERSION}-alpine AS build
# ring compiles C: gcc is in the image, the libc headers may not be.
RUN apk info -e musl-dev > /dev/null || apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# No .git in the build context: the release workflow passes the commit here.
ARG REGROUP_GIT_COMMIT=unknown
# musl builds are static by default; say so, so that a toolchain that
# changes the default cannot slip a dynamic binary onto a base with no libc.
ENV RUSTFLAGS="-C target-feature=+crt-static"
# With a vendor/ directory (`cargo vendor --locked vendor`), build offline
# from it: the lockfile's exact sources, no registry access.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    offline=""; \
    if [ -d vendor ]; then \
      mkdir -p .cargo; \
      printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "vendor"\n' >> .cargo/config.toml; \
      offline="--offline"; \
    fi; \
    cargo build --release --locked $offline --bin regroup; \
    cp target/release/regroup /regroup; \
    /regroup --version

FROM scratch AS prebuilt
COPY dist/regroup /regroup

FROM ${BINARY} AS binary

FROM gcr.io/distroless/static-debian12:debug-nonroot AS debug
COPY --from=binary /regroup /usr/local/bin/regroup
USER 65532:65532
ENTRYPOINT ["regroup"]

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=binary /regroup /usr/local/bin/regroup
USER 65532:65532
ENTRYPOINT ["regroup"]
