#!/usr/bin/env bash
# Makes the sample library's media from a synthetic source (test pattern with a running clock and
# a tone). The outputs are committed under fixtures/media, so running the server needs no media
# tool; run this again only to change them. Needs ffmpeg with libx264 (Debian: apt-get install ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/../fixtures/media"
command -v ffmpeg >/dev/null || { echo "ffmpeg is missing: apt-get install -y ffmpeg" >&2; exit 1; }

DUR=12
FPS=25
# A key frame every 2 s (50 frames), closed GOP, no scene-cut key frames, B-frames on.
X264="-c:v libx264 -preset medium -profile:v high -bf 2 -g 50 -keyint_min 50 -sc_threshold 0 -flags +cgop -pix_fmt yuv420p"
CLOCK="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='%{pts\\:hms}  f%{n}':x=20:y=20:fontsize=h/10:fontcolor=white:box=1:boxcolor=black@0.6"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || CLOCK="null"
SRC="testsrc2=size=1280x720:rate=${FPS}:duration=${DUR}"
tone() { echo "sine=frequency=$1:sample_rate=48000:duration=${DUR}"; }
AAC="-c:a aac -b:a 128k -ar 48000 -ac 2"
q="-hide_banner -loglevel error -y"

video() { # name width height kbps
  ffmpeg $q -f lavfi -i "$SRC" -f lavfi -i "$(tone 440)" \
    -vf "${CLOCK},scale=$2:$3" $X264 -b:v "$4k" -maxrate "$(( $4 * 3 / 2 ))k" -bufsize "$(( $4 * 2 ))k" \
    $AAC -ac 2 -shortest -movflags +faststart "$1"
}

video source-720p.mp4 1280 720 1000
video h264-720p.mp4 1280 720 1200
video h264-360p.mp4 640 360 500
video h264-240p.mp4 426 240 250

# 3gp: H.264 baseline at 176x144 with mono AAC, in the 3GPP container.
ffmpeg $q -f lavfi -i "$SRC" -f lavfi -i "$(tone 440)" -vf "${CLOCK},scale=176:144" \
  -c:v libx264 -profile:v baseline -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p -b:v 100k \
  -c:a aac -b:a 32k -ar 48000 -ac 1 -shortest -f 3gp mobile-144p.3gp

# Audio only (301981) and two alternate audio tracks (301982), AAC-LC in MP4.
ffmpeg $q -f lavfi -i "$(tone 660)" $AAC -movflags +faststart audio-128k.mp4
ffmpeg $q -f lavfi -i "$(tone 523)" -c:a aac -b:a 96k -ar 48000 -ac 2 -metadata:s:a:0 language=eng -movflags +faststart alt-audio-eng.mp4
ffmpeg $q -f lavfi -i "$(tone 392)" -c:a aac -b:a 96k -ar 48000 -ac 2 -metadata:s:a:0 language=spa -movflags +faststart alt-audio-spa.mp4

# Default thumbnail and the image entry.
ffmpeg $q -f lavfi -i "$SRC" -vf "${CLOCK},scale=640:360" -frames:v 1 -update 1 thumb-640x360.jpg
ffmpeg $q -f lavfi -i "testsrc2=size=320x240:rate=1:duration=1" -frames:v 1 -update 1 image-320x240.png

# Captions: English as WebVTT, Spanish as SRT (the server converts SRT to WebVTT).
cat > captions-eng.vtt <<'VTT'
WEBVTT

00:00:00.500 --> 00:00:03.000
Hello, this is the sample library.

00:00:03.500 --> 00:00:07.000
A test pattern with a running clock.

00:00:07.500 --> 00:00:11.500
Served by kdeliver.
VTT
cat > captions-spa.srt <<'SRT'
1
00:00:00,500 --> 00:00:03,000
Hola, esta es la biblioteca de ejemplo.

2
00:00:03,500 --> 00:00:07,000
Un patrón de prueba con un reloj.

3
00:00:07,500 --> 00:00:11,500
Servido por kdeliver.
SRT

# A small, valid one-page PDF for the document entry (byte offsets computed, not guessed).
node - <<'JS'
const fs = require('fs');
const objs = [
  '<< /Type /Catalog /Pages 2 0 R >>',
  '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
  '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
  null,
  '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
];
const text = 'BT /F1 18 Tf 20 70 Td (kdeliver sample document) Tj ET';
objs[3] = `<< /Length ${text.length} >>\nstream\n${text}\nendstream`;
let out = '%PDF-1.4\n';
const offsets = [];
objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
const xref = out.length;
out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
fs.writeFileSync('document.pdf', out);
JS
ls -l
du -ch . | tail -1
