# The `honnin` binary (crates/cli), built in a Rust image and shipped in a slim one.
#   docker build -t honnin .
#   docker run --rm honnin --help
# docker-compose.yml uses it for the deploy step and `honnin serve`.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# sqlx query macros compile against the committed offline data (.sqlx/), never a live database;
# the contract bindings read the committed artifacts in contracts/artifacts/.
ENV SQLX_OFFLINE=true
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p honnin-cli --bin honnin \
    && install -D target/release/honnin /out/honnin

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home honnin
COPY --from=build /out/honnin /usr/local/bin/honnin
USER honnin
WORKDIR /home/honnin
EXPOSE 8080
ENTRYPOINT ["honnin"]
CMD ["serve"]
