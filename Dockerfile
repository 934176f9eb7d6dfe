# One image for both sCast commands: the streamer (the default command) and
# api-proxy (`node dist/api-proxy/main.js`). Built by `docker compose build`,
# or by hand (the CA secret only where HTTPS passes a proxy with its own CA):
#   docker build -t scast .
#   podman build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t scast .
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/scast --push .

# ffmpeg from Debian's own source package (its security patches included),
# built with only what a station reads: the audio demuxers the streamer
# allows (src/ffmpeg/input.ts), their decoders, the filters its analysis
# uses, files and pipes as the only protocols; and for cover art, JPEG, PNG
# and WebP read (each as its one named format) and JPEG written, with the
# scaler. A downloaded song can reach no other code; the binary is ~12 MB
# where Debian's ffmpeg package and its libraries are ~400 MB.
FROM docker.io/library/debian:bookworm-slim AS ffmpeg
RUN set -eu \
 && if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
      sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources; \
    else \
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/sources.list; \
    fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends dpkg-dev gcc libc6-dev make nasm pkg-config libmp3lame-dev zlib1g-dev xz-utils \
 && mkdir /src && cd /src && apt-get source -qq ffmpeg
RUN cd /src/ffmpeg-*/ \
 && ./configure --prefix=/opt/ffmpeg \
      --disable-everything --disable-autodetect --disable-doc --disable-debug --disable-network \
      --disable-avdevice --disable-postproc --disable-ffplay --disable-ffprobe \
      --enable-libmp3lame --enable-swresample --enable-swscale --enable-zlib \
      --enable-protocol=file,pipe \
      --enable-demuxer=mov,mp3,aac,flac,ogg,wav,w64,aiff,matroska,asf,caf,pcm_s16le,image_jpeg_pipe,image_png_pipe,image_webp_pipe \
      --enable-muxer=null,pcm_s16le,mp3,ffmetadata,mjpeg,adts \
      --enable-decoder=aac,aac_fixed,aac_latm,mp1,mp1float,mp2,mp2float,mp3,mp3float,flac,alac,vorbis,opus,wmav1,wmav2,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_s32be,pcm_f32le,pcm_f32be,pcm_f64le,pcm_f64be,pcm_u8,pcm_s8,pcm_alaw,pcm_mulaw,mjpeg,png,webp \
      --enable-encoder=pcm_s16le,libmp3lame,mjpeg,aac \
      --enable-parser=aac,aac_latm,mpegaudio,flac,opus,vorbis,mjpeg,png \
      --enable-filter=abuffer,abuffersink,aformat,anull,aresample,atrim,asetpts,ebur128,silencedetect,volume,buffer,buffersink,split,scale,format,null \
 && make -j"$(nproc)" \
 && make install \
 && /opt/ffmpeg/bin/ffmpeg -hide_banner -version | head -1 \
 && for f in mov mp3 aac flac ogg wav matroska s16le; do /opt/ffmpeg/bin/ffmpeg -hide_banner -h demuxer=$f | grep -q "^Demuxer $f" || { echo "demuxer $f missing" >&2; exit 1; }; done \
 && for f in jpeg_pipe png_pipe webp_pipe; do /opt/ffmpeg/bin/ffmpeg -hide_banner -h demuxer=$f | grep -q "^Demuxer $f" || { echo "demuxer $f missing" >&2; exit 1; }; done \
 && for f in mjpeg png webp; do /opt/ffmpeg/bin/ffmpeg -hide_banner -h decoder=$f | grep -q "^Decoder $f" || { echo "decoder $f missing" >&2; exit 1; }; done \
 && for f in null s16le mp3 ffmetadata mjpeg adts; do /opt/ffmpeg/bin/ffmpeg -hide_banner -h muxer=$f | grep -q "^Muxer $f" || { echo "muxer $f missing" >&2; exit 1; }; done \
 && for f in libmp3lame aac; do /opt/ffmpeg/bin/ffmpeg -hide_banner -h encoder=$f | grep -q "^Encoder $f" || { echo "encoder $f missing" >&2; exit 1; }; done

# The app, compiled; npm reaches the registry with the build's CA secret when one is given.
FROM docker.io/library/node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --no-audit --no-fund --omit=optional
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
COPY api-proxy ./api-proxy
# koffi (libmp3lame in process, MP3_ENCODER=lib) ships prebuilt binaries for every platform: keep this one's.
RUN npm run build && npm prune --omit=dev --omit=optional \
 && find node_modules/koffi/build/koffi -mindepth 1 -maxdepth 1 ! -name "linux_$(node -p process.arch)" -exec rm -rf {} +

# Runtime: Debian slim with node's binary alone (no npm: the base node image
# keeps it in a layer removal cannot shrink), lame (MP3 encoding,
# MP3_ENCODER=auto picks it), libopus and libsoxr (Opus renditions, in
# process) and the ffmpeg above (AAC renditions). No compiler, no package
# manager beyond Debian's own. tini is PID 1: it reaps processes orphaned
# in the container (node reaps only its own children: a big station's
# ffmpeg launcher dying leaves its decoders to PID 1) and passes signals on.
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends lame libopus0 libsoxr0 tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --no-create-home --home-dir /app --shell /usr/sbin/nologin node \
 && mkdir -p /cache /recordings /app/djs \
 && chown node:node /cache /recordings /app/djs
COPY --from=docker.io/library/node:20-bookworm-slim /usr/local/bin/node /usr/local/bin/node
COPY --from=ffmpeg /opt/ffmpeg/bin/ffmpeg /usr/local/bin/ffmpeg
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY playlists ./playlists
# Every writable path is a volume, so the root file system can be read-only.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1 \
    PLAYLISTS_DIR=/app/playlists \
    CACHE_DIR=/cache \
    RECORDINGS_DIR=/recordings \
    DJS_FILE=/app/djs/djs.json
VOLUME ["/cache", "/recordings", "/app/djs"]
USER node
EXPOSE 8080 8090
# 200 only while every channel is on air with no dead air (GET /health).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "dist/src/health-probe.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--single-threaded-gc", "--initial-old-space-size=32", "--expose-gc", "dist/src/main.js"]
