#!/usr/bin/env bash
# Run certify's GPU cells (gpu=nvidia) on a machine with an NVIDIA GPU, and say where the report is.
#
#   tools/gpu-cells.sh [--out DIR] [--spark LINE]... [--deploy MODE]... [--plan-only]
#
# Cells: every --spark line (default 4.1 and 4.0: no RAPIDS release supports pyspark 3.5.7) x
# every --deploy mode (default standalone and connect: RAPIDS needs executor GPU scheduling,
# which deploy=local lacks), with catalog=hive and storage=local, under the smoke, parity and
# gpu suites. The gpu suite certifies a cell only if its executed plans hold GPU operators and
# its queries give the CPU's rows; the plans are kept in OUT/work/<cell>/gpu-plans/.
# One cell runs at a time (-n 1): each executor takes a whole GPU.
# --plan-only prints the plan (and what this machine can run) instead of running it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${CERTIFY_PYTHON:-$root/.venv/bin/python}
out=runs/gpu-$(date -u +%Y%m%dT%H%M%SZ)
lines=()
deploys=()
plan_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --spark) lines+=("$2"); shift 2 ;;
    --deploy) deploys+=("$2"); shift 2 ;;
    --plan-only) plan_only=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-cells: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#lines[@]} -gt 0 ] || lines=(4.1 4.0)
[ ${#deploys[@]} -gt 0 ] || deploys=(standalone connect)

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-cells: nvidia-smi not found on PATH: this machine has no NVIDIA driver, so its GPU" \
       "cells could only end not_run; run this on a machine with an NVIDIA GPU" >&2
  exit 2
fi
if ! gpus=$(nvidia-smi --query-gpu=index,name --format=csv,noheader) || [ -z "$gpus" ]; then
  echo "gpu-cells: nvidia-smi lists no GPU${gpus:+: $gpus}" >&2
  exit 2
fi
echo "gpu-cells: GPUs:"; printf '  %s\n' "$gpus"

cd "$root"
# the matrix with one profile, `gpu`, selecting exactly these cells
mkdir -p .certify/gpu
matrix=.certify/gpu/gpu-matrix.yaml
"$python" - "$matrix" "${lines[*]}" "${deploys[*]}" <<'PY'
import sys
from pathlib import Path

import yaml

path, lines, deploys = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
spec = yaml.safe_load(Path("matrices/platform.yaml").read_text())
spec["name"] = "platform-gpu"
spec["profiles"] = {
    "gpu": {
        "description": "the GPU cells on this machine's NVIDIA GPUs (tools/gpu-cells.sh)",
        "tiers": ["certified", "documented", "experimental"],
        "select": [
            {"spark": lines, "catalog": "hive", "storage": "local", "gpu": "nvidia",
             "deploy": deploys}
        ],
        "reduction": "full",
        "suites": ["smoke", "parity", "gpu"],
    }
}
Path(path).write_text(yaml.safe_dump(spec, sort_keys=False))
PY

if [ "$plan_only" = 1 ]; then
  exec "$python" -m certify plan --profile gpu --matrix "$matrix" --platform local
fi

for line in "${lines[@]}"; do
  "$python" -m certify env sync --spark "$line"
done
status=0
"$python" -m certify run --profile gpu --matrix "$matrix" --out "$out" -n 1 || status=$?
echo "gpu-cells: report: $out/report.md (also report.html, report.json; gate exit $status)"
echo "gpu-cells: executed plans: $out/work/*/gpu-plans/"
exit "$status"
