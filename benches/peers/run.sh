#!/usr/bin/env bash
# Speed comparison of capsim with its peers (a minimal hand-written Rust loop, SimPy, Ciw)
# on two models (M/M/3 and a 3-tier network), same simulated horizon for every tool.
#
#   bash benches/peers/run.sh [--repeats R] [--horizon-mm3 S] [--horizon-tier3 S]
#                             [--quick] [--seed N] [--tools LIST] [--models LIST]
#
# Defaults: R=3 (median wall time), horizons mm3 400000 s and tier3 5000 s (~1 M customers
# each), seed 1, tools minimal,capsim,simpy,ciw, models mm3,tier3. --quick divides horizons
# by 10. Raw JSON lines go to benches/peers/results.jsonl (overwritten on each run).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

REPEATS=3
H_MM3=400000
H_TIER3=5000
QUICK=0
SEED=1
TOOLS="minimal,capsim,simpy,ciw"
MODELS="mm3,tier3"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) REPEATS="$2"; shift 2 ;;
    --horizon-mm3) H_MM3="$2"; shift 2 ;;
    --horizon-tier3) H_TIER3="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --seed) SEED="$2"; shift 2 ;;
    --tools) TOOLS="$2"; shift 2 ;;
    --models) MODELS="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repeats must be a positive integer" >&2; exit 2; }
if [[ $QUICK == 1 ]]; then
  H_MM3=$(python3 -c "print(f'{$H_MM3/10:g}')")
  H_TIER3=$(python3 -c "print(f'{$H_TIER3/10:g}')")
fi

has() { [[ ",$1," == *",$2,"* ]]; }
log() { echo "[run.sh] $*" >&2; }

VENV="$HERE/.venv"
PY="$VENV/bin/python"
RESULTS="$HERE/results.jsonl"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# --- Python peers: venv with the pinned requirements --------------------------------------
if has "$TOOLS" simpy || has "$TOOLS" ciw; then
  if [[ ! -x "$PY" ]] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.installed"; then
    log "creating $VENV and installing requirements.txt"
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$VENV/.requirements.installed"
  fi
fi

# --- Builds -----------------------------------------------------------------------------
MINIMAL="$HERE/minimal/target/release/capsim-peer-minimal"
if has "$TOOLS" minimal; then
  log "building the minimal loop (release, fat LTO)"
  locked=(); [[ -f "$HERE/minimal/Cargo.lock" ]] && locked=(--locked)
  cargo build --release --quiet "${locked[@]}" --manifest-path "$HERE/minimal/Cargo.toml"
fi

CAPSIM="$ROOT/target/release/capsim"
CAPSIM_UNAVAILABLE=""
if has "$TOOLS" capsim; then
  log "building capsim (cargo build --release at $ROOT)"
  if ! (cd "$ROOT" && cargo build --release --quiet) >"$TMP/capsim-build.log" 2>&1; then
    CAPSIM_UNAVAILABLE="cargo build --release failed: $(grep -m1 -E '^error' "$TMP/capsim-build.log" || tail -n1 "$TMP/capsim-build.log")"
    log "capsim build failed; last lines:"; tail -n 5 "$TMP/capsim-build.log" >&2
  elif [[ ! -x "$CAPSIM" ]]; then
    CAPSIM_UNAVAILABLE="no binary at target/release/capsim"
  fi
fi

# --- Machine --------------------------------------------------------------------------------
{
  echo "capsim peer benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo "toolchain: $(rustc --version); $(python3 --version)"
  echo "repeats: $REPEATS, seed: $SEED, horizons: mm3 ${H_MM3} s, tier3 ${H_TIER3} s"
}

: >"$RESULTS"

# Append one JSON line (a tool's output) with the run's context.
record() {  # json horizon repeat
  local line="$1"
  printf '%s\n' "${line%\}}, \"horizon_s\": $2, \"seed\": $SEED, \"repeat\": $3}" >>"$RESULTS"
}
record_error() {  # tool model horizon reason
  local reason="${4//\\/\\\\}"; reason="${reason//\"/\\\"}"
  reason="$(printf '%s' "$reason" | tr '\n\t' '  ')"
  printf '{"tool": "%s", "model": "%s", "horizon_s": %s, "seed": %s, "error": "%s"}\n' \
    "$1" "$2" "$3" "$SEED" "$reason" >>"$RESULTS"
  log "$1 $2: not available ($reason)"
}

# Turn capsim's `timing: k=v ...` stderr line into the peers' JSON form.
capsim_json() {  # model timing-line
  echo "$2" | awk -v model="$1" '{
    out = "{\"tool\": \"capsim\", \"model\": \"" model "\""
    for (i = 2; i <= NF; i++) {
      split($i, kv, "="); k = kv[1]; v = substr($i, length(k) + 2)
      if (k == "scenario") { out = out ", \"scenario\": \"" v "\""; continue }
      if (v !~ /^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/) v = "null"
      out = out ", \"" k "\": " v
    }
    print out "}"
  }'
}

# The most telling line of a failed run's stderr: the first error line, else the last line.
why() { grep -m1 -iE '(^|[^a-z])error' "$1" || grep -v '^[[:space:]]*$' "$1" | tail -n1 || true; }

# Run one tool once; print its JSON line on stdout, or fail with the reason on stdout.
run_once() {  # tool model horizon
  local tool="$1" model="$2" h="$3" out="$TMP/out" err="$TMP/err"
  case "$tool" in
    minimal) "$MINIMAL" --model "$model" --horizon "$h" --seed "$SEED" >"$out" 2>"$err" ;;
    simpy) "$PY" "$HERE/simpy_models.py" --model "$model" --horizon "$h" --seed "$SEED" >"$out" 2>"$err" ;;
    ciw) "$PY" "$HERE/ciw_models.py" --model "$model" --horizon "$h" --seed "$SEED" >"$out" 2>"$err" ;;
    capsim)
      [[ -z "$CAPSIM_UNAVAILABLE" ]] || { echo "$CAPSIM_UNAVAILABLE"; return 1; }
      local script="benches/peers/$model.rhai"
      [[ -f "$ROOT/$script" ]] || { echo "$script not written yet"; return 1; }
      local odir="$TMP/capsim-$model"; rm -rf "$odir"; mkdir -p "$odir"
      (cd "$ROOT" && "$CAPSIM" run "$script" --replications 1 --threads 1 --seed "$SEED" \
          --duration "$h" --timing -o "$odir") >"$out.log" 2>"$err" || true
      local lines; lines="$(grep -E '^timing: ' "$err" || true)"
      if [[ -z "$lines" ]]; then
        echo "no 'timing:' line on stderr: $(why "$err")"; return 1
      fi
      if [[ "$(wc -l <<<"$lines")" -gt 1 ]]; then
        log "capsim $model: several timing lines, using the first"
      fi
      capsim_json "$model" "$(head -n1 <<<"$lines")" >"$out"
      ;;
    *) echo "unknown tool"; return 1 ;;
  esac || { echo "exit status $?: $(why "$err")"; return 1; }
  if ! grep -q '^{' "$out"; then echo "no JSON line on stdout"; return 1; fi
  grep -m1 '^{' "$out"
}

for model in mm3 tier3; do
  has "$MODELS" "$model" || continue
  if [[ $model == mm3 ]]; then h="$H_MM3"; else h="$H_TIER3"; fi
  for tool in minimal capsim simpy ciw; do
    has "$TOOLS" "$tool" || continue
    for ((r = 1; r <= REPEATS; r++)); do
      log "$model: $tool, repeat $r/$REPEATS (horizon $h s)"
      if line="$(run_once "$tool" "$model" "$h")"; then
        record "$line" "$h" "$r"
      else
        record_error "$tool" "$model" "$h" "$line"
        break
      fi
    done
  done
  python3 "$HERE/report.py" "$RESULTS" "$model"
done
echo
echo "raw results: $RESULTS"
