#!/usr/bin/env bash
# Regenerates the demo songs shipped in playlists/media/ (they are committed,
# so a fresh machine needs no ffmpeg to have them). Synthesised tones only:
# no recorded or copyrighted music.
set -euo pipefail
cd "$(dirname "$0")/../playlists/media"
note() { awk -v n="$1" 'BEGIN { printf "%.3f", 440 * 2 ^ ((n - 69) / 12) }'; }
# A plucked note every `step` seconds, cycling through MIDI notes.
melody() {
  local step=$1; shift
  local expr="" i=0 n=$#
  for m in "$@"; do
    expr+="(eq(mod(floor(t/$step),$n),$i))*sin(2*PI*$(note "$m")*t)+"
    i=$((i + 1))
  done
  echo "0.35*(${expr%+})*exp(-4*mod(t,$step))"
}
gen() { # file seconds codec-args... -- expression
  local out=$1 secs=$2 expr=$3; shift 3
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "aevalsrc='$expr':s=44100:d=$secs" "$@" "$out"
}
gen sunrise-arpeggio.m4a 20 "$(melody 0.25 60 64 67 72 67 64)" -ac 2 -c:a aac -b:a 64k \
  -metadata title="Sunrise Arpeggio" -metadata artist="sCast Demo Band" -metadata album="Tones"
gen minor-waltz.mp3 18 "$(melody 0.333 57 60 64 60 64 69 64 60 57)" -ac 1 -ar 48000 -c:a libmp3lame -b:a 64k \
  -metadata title="Minor Waltz" -metadata artist="sCast Demo Band"
gen chime.ogg 4 "$(melody 0.5 84 79 76 72)" -ac 2 -c:a libvorbis -q:a 2
gen morning-light.flac 15 "$(melody 0.2 62 66 69 74 69 66 62 57)" -ac 2 -ar 22050 -sample_fmt s16 -c:a flac
ls -la
