# One image for both sCast commands: the streamer (node dist/src/main.js) and
# api-proxy (node dist/api-proxy/main.js).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
COPY api-proxy ./api-proxy
RUN npm run build && npm prune --omit=dev

# Runtime: Debian's ffmpeg probes and decodes downloaded songs: it gets decoder
# security fixes, where the static ffmpeg shipped in @ffmpeg-installer/ffmpeg is
# a 2018 build, kept only for the operator's own files (it starts in ~10 ms
# with ~1 MB private memory). Encoding is done by Debian's `lame`
# (MP3_ENCODER=auto picks it): the same libmp3lame, the same bytes as
# ffmpeg's, at ~0.7 % of a core and ~4 MB per channel.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends lame ffmpeg && rm -rf /var/lib/apt/lists/*
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
