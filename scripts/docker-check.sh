#!/usr/bin/env bash
# Builds docker/Dockerfile without a Docker engine and checks that the image serves the sample
# library. Run by CI, as root, from anywhere in the repository:
#
#   scripts/docker-check.sh
#
# 1. a stand-in for the base image: debootstrap of Debian bookworm plus this machine's own Node 20,
#    imported as node:20-bookworm-slim into a podman storage of our own (the real image is not
#    pulled: CI has no registry other than npm's and Debian's);
# 2. podman build --isolation=chroot --network=host of the real Dockerfile;
# 3. podman image mount, then the server started from the image's filesystem in a chroot, as the
#    image's user, with the image's Env, WorkingDir and Cmd;
# 4. checks: the image refuses the sample secrets in production without KDELIVER_SAMPLE_LIBRARY;
#    the production quick start with nothing configured (`kdeliver partner add`, `kdeliver ingest`
#    of a clip made by the image's ffmpeg, the server generating its secrets in /data, the HLS URL
#    playing); then, on a new /data with the sample library: /healthz and /readyz, the image's
#    HEALTHCHECK, `kdeliver ks` and an unknown command, a playManifest redirect to media bytes, an
#    HLS master with its variant playlist and first segment, and a clean exit 0 on SIGTERM.
#
# Environment:
#   KDELIVER_DOCKER_CHECK_DIR   work directory (default /var/tmp/kdeliver-docker-check)
#   KDELIVER_DOCKER_CHECK_KEEP  1: keep the podman storage (base image and build cache) for the
#                               next run; the default removes everything this script created
set -euo pipefail

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${KDELIVER_DOCKER_CHECK_DIR:-/var/tmp/kdeliver-docker-check}
KEEP=${KDELIVER_DOCKER_CHECK_KEEP:-0}
BASE=docker.io/library/node:20-bookworm-slim
IMAGE=localhost/kdeliver:docker-check
P=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay)
T0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, podman storage): run \`sudo $0\`"

need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${need[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${need[@]}"; } \
    || die "could not install ${need[*]}: run \`apt-get update && apt-get install -y ${need[*]}\`"
fi

NODE=$(readlink -f "$(command -v node)") || die "node not found: install Node 20"
NODE_VERSION=$("$NODE" --version)
case "$NODE_VERSION" in v20.*) ;; *) die "the stand-in base image needs this machine's Node 20, found $NODE_VERSION" ;; esac
NPM_DIR=$(npm root -g 2>/dev/null)/npm
[ -f "$NPM_DIR/package.json" ] || die "npm not found at $NPM_DIR"
NODE_INCLUDE=$(dirname "$(dirname "$NODE")")/include/node
[ -f "$NODE_INCLUDE/node.h" ] || die "Node headers not found at $NODE_INCLUDE (needed to compile better-sqlite3 offline): install the nodejs package that ships them"

SERVER_PID=
MOUNTED=()
IMAGE_MNT=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; fi
  for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do umount -l "${MOUNTED[i]}" 2>/dev/null; done
  [ -n "$IMAGE_MNT" ] && "${P[@]}" image unmount "$IMAGE" >/dev/null 2>&1
  if [ "$KEEP" = 1 ]; then
    "${P[@]}" rmi -f "$IMAGE" >/dev/null 2>&1
    rm -rf "$WORK/rootfs" "$WORK/data" "$WORK/logs"
    echo "kept podman storage in $WORK (KDELIVER_DOCKER_CHECK_KEEP=1)"
  else
    "${P[@]}" system reset --force >/dev/null 2>&1
    rm -rf "$WORK"
  fi
  [ $rc = 0 ] && echo "docker-check: OK in $(elapsed)" || echo "docker-check: FAILED (exit $rc) after $(elapsed)" >&2
}
trap cleanup EXIT
mkdir -p "$WORK"
# overlay where the kernel allows it (fast); vfs (plain copies) inside containers that do not
if ! "${P[@]}" info >/dev/null 2>&1; then
  P=(podman --root "$WORK/storage-vfs" --runroot "$WORK/run" --storage-driver vfs)
  "${P[@]}" info >/dev/null || die "podman cannot use overlay or vfs storage here: see \`podman --root $WORK/storage info\`"
  echo "overlay storage unavailable: using vfs"
fi

# ---- 1. stand-in base image --------------------------------------------------------------------
if "${P[@]}" image exists "$BASE"; then
  say "base image $BASE already in $WORK/storage (stand-in from an earlier kept run)"
else
  say "debootstrap bookworm (minbase) into $WORK/rootfs"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; die "debootstrap failed (log above)"; }
  say "adding this machine's Node $NODE_VERSION as /usr/local/bin/node (as in the official image)"
  R=$WORK/rootfs
  install -D -m 0755 "$NODE" "$R/usr/local/bin/node"
  mkdir -p "$R/usr/local/lib/node_modules" "$R/usr/local/include"
  cp -a "$NPM_DIR" "$R/usr/local/lib/node_modules/npm"
  cp -a "$NODE_INCLUDE" "$R/usr/local/include/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
  # the official image has a "node" user (1000) and no apt lists
  chroot "$R" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  rm -rf "$R/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin
  # Where this machine reaches the npm registry through a TLS-inspecting proxy, Node trusts the
  # proxy's CA through NODE_EXTRA_CA_CERTS; the stand-in carries that trust so npm ci works inside.
  CA_CHANGE=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$R/usr/local/share/kdeliver-host-ca/ca.crt"
    CA_CHANGE=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/kdeliver-host-ca/ca.crt')
    echo "carrying this machine's NODE_EXTRA_CA_CERTS into the stand-in"
  fi
  chroot "$R" /usr/local/bin/node --version >/dev/null || die "node does not run inside the bookworm rootfs"
  say "importing the rootfs as $BASE"
  tar -C "$R" -c . | "${P[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
    --change 'CMD ["node"]' "${CA_CHANGE[@]}" \
    - "$BASE" >/dev/null
  rm -rf "$R"
  echo "base image ready ($(elapsed))"
fi

# ---- 2. build the real Dockerfile -------------------------------------------------------------
say "podman build --isolation=chroot --network=host --format docker -f docker/Dockerfile (log: $WORK/build.log)"
B0=$(date +%s)
if ! "${P[@]}" build --isolation=chroot --network=host --pull=never --format docker \
    -f "$ROOT/docker/Dockerfile" -t "$IMAGE" "$ROOT" > "$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log"
  die "podman build failed (last lines above)"
fi
echo "built $IMAGE in $(( $(date +%s) - B0 ))s; size $("${P[@]}" image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1048576}')"

# ---- 3. the image's filesystem and configuration ------------------------------------------------
say "podman image mount $IMAGE"
IMAGE_MNT=$("${P[@]}" image mount "$IMAGE")
echo "$IMAGE_MNT"
CONFIG_JSON=$("${P[@]}" image inspect --format '{{json .Config}}' "$IMAGE")
HEALTH_JSON=$("${P[@]}" image inspect --format '{{json .HealthCheck}}' "$IMAGE" 2>/dev/null || echo null)
# one field per line: user, workdir, cmd (JSON), healthcheck test (JSON), then env lines
mapfile -t IMG < <(CONFIG_JSON=$CONFIG_JSON HEALTH_JSON=$HEALTH_JSON node -e '
  const c = JSON.parse(process.env.CONFIG_JSON); let h = null;
  try { h = JSON.parse(process.env.HEALTH_JSON); } catch {}
  const hc = (h && h.Test) || (c.Healthcheck && c.Healthcheck.Test) || null;
  console.log(c.User || "root"); console.log(c.WorkingDir || "/");
  console.log(JSON.stringify(c.Cmd || [])); console.log(JSON.stringify(hc));
  for (const e of c.Env || []) console.log(e);')
IMG_USER=${IMG[0]}; IMG_WORKDIR=${IMG[1]}; IMG_CMD=${IMG[2]}; IMG_HEALTH=${IMG[3]}
IMG_ENV=("${IMG[@]:4}")
echo "User=$IMG_USER WorkingDir=$IMG_WORKDIR Cmd=$IMG_CMD"
printf 'Env: %s\n' "${IMG_ENV[@]}"
[ "$IMG_USER" != root ] && [ "$IMG_USER" != 0 ] || die "the image runs as root"
printf '%s\n' "${IMG_ENV[@]}" | grep -qx 'KDELIVER_DATA_DIR=/data' || die "the image does not set KDELIVER_DATA_DIR=/data"
[ "$IMG_HEALTH" != null ] || die "the image has no HEALTHCHECK"
command -v "$IMAGE_MNT/usr/bin/ffmpeg" >/dev/null || die "ffmpeg is not installed in the image"
UIDGID=$(awk -F: -v u="$IMG_USER" '$1==u || $3==u {print $3":"$4}' "$IMAGE_MNT/etc/passwd")
[ -n "$UIDGID" ] || die "user $IMG_USER not in the image's /etc/passwd"

# Writable places the image leaves to the runtime: the /data volume, /tmp, /dev, /proc.
mkdir -p "$WORK/data" "$WORK/tmp" "$WORK/logs"
chown "$UIDGID" "$WORK/data"; chmod 1777 "$WORK/tmp"
bind() { mount --bind "$1" "$2"; MOUNTED+=("$2"); }
bind /dev "$IMAGE_MNT/dev"
mount -t proc proc "$IMAGE_MNT/proc"; MOUNTED+=("$IMAGE_MNT/proc")
bind "$WORK/tmp" "$IMAGE_MNT/tmp"
bind "$WORK/data" "$IMAGE_MNT/data"

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# run_in_image ENV... -- ARGV...: a process in the image's filesystem, as its user, from its WorkingDir
run_in_image() {
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  # exec all the way down, so that the caller's $! is the server process itself
  exec env -i "${IMG_ENV[@]}" "${envs[@]}" chroot --userspec="$UIDGID" "$IMAGE_MNT" \
    /bin/sh -c 'cd "$0" && exec "$@"' "$IMG_WORKDIR" "$@"
}
mapfile -t CMD < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$IMG_CMD")
mapfile -t HEALTH < <(node -e 'const t=JSON.parse(process.argv[1]); const a=t[0]==="CMD-SHELL"?["/bin/sh","-c",t[1]]:t.slice(1); for (const x of a) console.log(x)' "$IMG_HEALTH")

# ---- 4. checks ----------------------------------------------------------------------------------
BASEURL=http://127.0.0.1:$PORT
check() { printf '  %-58s' "$1"; }
ok() { echo "ok${1:+ ($1)}"; }
# start_server LOGNAME ENV...: the image's Cmd in the background, as SERVER_PID; waits for /healthz
start_server() {
  local name=$1; shift
  (run_in_image HOST=127.0.0.1 PORT="$PORT" "$@" -- "${CMD[@]}") > "$WORK/logs/$name.log" 2> "$WORK/logs/$name.err" &
  SERVER_PID=$!
  for i in $(seq 1 150); do
    curl -fsS "$BASEURL/healthz" >/dev/null 2>&1 && break
    kill -0 $SERVER_PID 2>/dev/null || { cat "$WORK/logs/$name.log" "$WORK/logs/$name.err"; die "the server exited during start"; }
    [ "$i" = 150 ] && { cat "$WORK/logs/$name.log" "$WORK/logs/$name.err"; die "no /healthz answer after 30 s"; }
    sleep 0.2
  done
  echo "up after $(elapsed)"
}
stop_server() {
  local name=$1
  kill -TERM $SERVER_PID
  set +e; wait $SERVER_PID; rc=$?; set -e
  SERVER_PID=
  [ $rc = 0 ] || { tail -20 "$WORK/logs/$name.log" "$WORK/logs/$name.err"; die "exit code $rc after SIGTERM"; }
}
# check_hls MASTER_URL TAG: the master, its first variant playlist and first segment
check_hls() {
  local master=$1 tag=$2
  check "playManifest format/applehttp: an HLS master"
  curl -fsS -o "$WORK/logs/$tag-master.m3u8" "$master" || die "GET HLS master $master: $(curl -sS -D - -o /dev/null "$master" | grep -i '^x-kaltura:')"
  grep -q '^#EXTM3U' "$WORK/logs/$tag-master.m3u8" && grep -q '^#EXT-X-STREAM-INF' "$WORK/logs/$tag-master.m3u8" \
    || { cat "$WORK/logs/$tag-master.m3u8"; die "not an HLS master"; }
  ok "$(grep -c '^#EXT-X-STREAM-INF' "$WORK/logs/$tag-master.m3u8") variants"
  local variant variant_url seg seg_url
  variant=$(grep -v '^#' "$WORK/logs/$tag-master.m3u8" | grep -m1 .)
  variant_url=$(node -e 'console.log(new URL(process.argv[1], process.argv[2]).href)' "$variant" "$master")
  check "  its first variant playlist"
  curl -fsS -o "$WORK/logs/$tag-variant.m3u8" "$variant_url" || die "GET $variant_url"
  grep -q '^#EXTINF' "$WORK/logs/$tag-variant.m3u8" || { cat "$WORK/logs/$tag-variant.m3u8"; die "no segments in the variant playlist"; }; ok
  seg=$(grep -v '^#' "$WORK/logs/$tag-variant.m3u8" | grep -m1 .)
  seg_url=$(node -e 'console.log(new URL(process.argv[1], process.argv[2]).href)' "$seg" "$variant_url")
  check "  its first segment"
  curl -fsS -o "$WORK/logs/$tag-seg" "$seg_url" || die "GET $seg_url"
  [ "$(stat -c %s "$WORK/logs/$tag-seg")" -gt 1000 ] || die "segment too small"; ok "$(stat -c %s "$WORK/logs/$tag-seg") bytes"
}

say "production with the sample secrets must refuse to start (unless KDELIVER_SAMPLE_LIBRARY=true)"
set +e
(run_in_image HOST=127.0.0.1 PORT="$PORT" KDELIVER_URL_TOKEN_SECRET=sample-url-token-secret -- "${CMD[@]}") > "$WORK/logs/refuse.log" 2>&1 &
REFUSE_PID=$!
for _ in $(seq 1 100); do kill -0 $REFUSE_PID 2>/dev/null || break; sleep 0.1; done
if kill -0 $REFUSE_PID 2>/dev/null; then kill -KILL $REFUSE_PID; die "the image started in production with the sample secrets"; fi
wait $REFUSE_PID; rc=$?
set -e
cat "$WORK/logs/refuse.log"
[ $rc != 0 ] || die "expected a non-zero exit with the sample secrets"
grep -q 'the sample secrets are refused in production' "$WORK/logs/refuse.log" || die "the refusal does not say why"

say "production quick start in the image, nothing configured: kdeliver partner add, kdeliver ingest, serve, play"
check "kdeliver partner add (the command on the image's PATH)"
(run_in_image -- kdeliver partner add --name 'Docker check') > "$WORK/logs/partner.log" 2>&1 || { cat "$WORK/logs/partner.log"; die "kdeliver partner add failed"; }
NEW_PID=$(sed -n 's/^partner \([0-9]*\) created.*/\1/p' "$WORK/logs/partner.log")
[ -n "$NEW_PID" ] || { cat "$WORK/logs/partner.log"; die "no partner id in the output of kdeliver partner add"; }; ok "partner $NEW_PID"
check "a 4 s source made with the image's ffmpeg"
(run_in_image -- ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=480x270:rate=25 -f lavfi -i sine=frequency=440 -t 4 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest /tmp/source.mp4) || die "ffmpeg in the image failed"; ok
check "kdeliver ingest /tmp/source.mp4 --partner $NEW_PID"
(run_in_image -- kdeliver ingest /tmp/source.mp4 --partner "$NEW_PID" --name first) > "$WORK/logs/ingest.log" 2>&1 \
  || { cat "$WORK/logs/ingest.log"; die "kdeliver ingest failed"; }
NEW_ENTRY=$(sed -n 's/^entry \([^:]*\): source.*/\1/p' "$WORK/logs/ingest.log")
grep -q "entry $NEW_ENTRY READY" "$WORK/logs/ingest.log" || { cat "$WORK/logs/ingest.log"; die "the entry did not become READY"; }; ok "$NEW_ENTRY"
say "starting the server from the image: ${CMD[*]} (PORT=$PORT, no secrets configured)"
start_server production
check "secrets generated in /data, readable by $IMG_USER only"
[ "$(stat -c %a:%u:%g "$WORK/data/secrets.json")" = "600:$UIDGID" ] || die "secrets.json: $(stat -c %a:%u:%g "$WORK/data/secrets.json"), expected 600:$UIDGID"; ok
check_hls "$BASEURL/p/$NEW_PID/sp/${NEW_PID}00/playManifest/entryId/$NEW_ENTRY/format/applehttp/protocol/http/a.m3u8" production
check "SIGTERM: graceful exit 0"; stop_server production; ok
rm -rf "$WORK/data/"* "$WORK/data/".[!.]* "$WORK/tmp/"*

say "starting the server from the image: ${CMD[*]} (PORT=$PORT, KDELIVER_SAMPLE_LIBRARY=true, a new /data)"
start_server server KDELIVER_SAMPLE_LIBRARY=true

check "GET /healthz"; curl -fsS "$BASEURL/healthz" >/dev/null || die "/healthz"; ok
check "GET /readyz"; curl -fsS "$BASEURL/readyz" >/dev/null || die "/readyz: $(curl -sS "$BASEURL/readyz")"; ok
check "image HEALTHCHECK (${HEALTH[*]:0:2} ...)"
(run_in_image PORT="$PORT" -- "${HEALTH[@]}") || die "the image's HEALTHCHECK command failed"; ok
check "kdeliver ks --partner 309 --type admin (on the PATH)"
KS=$(run_in_image KDELIVER_SAMPLE_LIBRARY=true -- kdeliver ks --partner 309 --type admin) || die "kdeliver ks failed"
case "$KS" in djJ8MzA5f*) ok ;; *) die "not a v2 KS of partner 309: $KS" ;; esac
check "kdeliver with an unknown command fails"
if (run_in_image -- kdeliver nosuchcommand) > "$WORK/logs/unknown.log" 2>&1; then die "exit 0 for an unknown command"; fi
grep -q 'unknown command "nosuchcommand"' "$WORK/logs/unknown.log" || { cat "$WORK/logs/unknown.log"; die "no message for an unknown command"; }; ok

PM=$BASEURL/p/309/sp/30900/playManifest/entryId/1_rcit0qgs
check "playManifest format/url: 302 to the media"
LOC=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$PM/format/url/protocol/http/flavorParamId/301951/a.mp4")
[ "${LOC%% *}" = 302 ] || die "expected 302, got: $LOC"
MEDIA=${LOC#* }; ok "$MEDIA"
check "  the redirect target's bytes are an MP4"
curl -fsS -o "$WORK/logs/media.mp4" "$MEDIA" || die "GET $MEDIA"
SIZE=$(stat -c %s "$WORK/logs/media.mp4")
[ "$(dd if="$WORK/logs/media.mp4" bs=1 skip=4 count=4 2>/dev/null)" = ftyp ] || die "no ftyp box at the start of $MEDIA"
[ "$SIZE" -gt 100000 ] || die "only $SIZE bytes"; ok "$SIZE bytes"

check_hls "$PM/format/applehttp/protocol/http/a.m3u8" sample

# the console's players: every bundle routes/console.ts serves is in the image (the Dockerfile
# copies them one by one from the build's development packages)
for f in $(node -e 'const s=require("fs").readFileSync(process.argv[1],"utf8"); const m=/VENDOR_FILES[^{]*\{([^}]*)\}/.exec(s); for (const x of m[1].matchAll(/^\s*'"'"'([^'"'"']+)'"'"':/gm)) console.log(x[1])' "$ROOT/routes/console.ts"); do
  check "  the console's /console/vendor/$f"
  curl -fsS -o /dev/null "$BASEURL/console/vendor/$f" || die "GET /console/vendor/$f: $(curl -sS "$BASEURL/console/vendor/$f" | head -c 200)"; ok
done

check "the data volume holds the catalog, owned by $IMG_USER"
[ -f "$WORK/data/catalog.sqlite" ] || die "no catalog.sqlite in /data"
[ "$(stat -c %u:%g "$WORK/data/catalog.sqlite")" = "$UIDGID" ] || die "catalog.sqlite not owned by $UIDGID"; ok

check "SIGTERM: graceful exit 0"; stop_server server; ok
check "server log (stdout) is JSON lines, with request ids"
node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map((x)=>JSON.parse(x)); if (!l.some((x)=>x.reqId)) throw new Error("no reqId"); console.log("ok ("+l.length+" lines)")' "$WORK/logs/server.log" \
  || die "non-JSON log output in $WORK/logs/server.log"
if [ -s "$WORK/logs/server.err" ]; then echo "  stderr of the server:"; sed 's/^/    /' "$WORK/logs/server.err"; fi
