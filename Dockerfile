# One image for both sCast commands: the streamer (node dist/src/main.js) and
# api-proxy (node dist/api-proxy/main.js).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY api-proxy ./api-proxy
RUN npm run build && npm prune --omit=dev

# Runtime: no system ffmpeg. The static ffmpeg shipped in @ffmpeg-installer/ffmpeg
# is used instead: measured on this project's benchmark it needs ~1 MB private
# memory per process against ~10 MB for Debian's dynamically linked one, and a
# ~300 MB smaller image. The price is CPU: its libmp3lame encodes at ~2.7 % of
# a core per channel against ~1 % for Debian's. For many channels on few cores,
# add `apt-get install -y --no-install-recommends ffmpeg` here: the encoder then
# uses Debian's, and decoders keep the static one (see FFMPEG_DECODER_PATH).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY playlists ./playlists
RUN mkdir -p /cache && chown node:node /cache
USER node
EXPOSE 8080 8090
CMD ["node", "dist/src/main.js"]
