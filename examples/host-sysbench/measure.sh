#!/usr/bin/env bash
# Measure snpapp's bundled example results: sysbench cpu and memory on THIS host,
# two scenarios (native vs pinned to CPU 0), 20 interleaved repetitions.
# These are host measurements, NOT SEV-SNP measurements.
#
#   examples/host-sysbench/measure.sh          # REPS=20 by default; ~5 min
#
# Raw logs go to raw/<scenario>/<workload>-<rep>.log, then `snpapp import` turns
# them into results.csv (one call per scenario).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
reps="${REPS:-20}"
raw="$here/raw"
results="$here/results.csv"
scenarios=(native pinned-cpu0)
workloads=(cpu memory)

for tool in sysbench taskset lscpu /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "measure.sh: $tool is not installed" >&2; exit 1; }
done
if [[ -e "$raw" || -e "$results" ]]; then
    echo "measure.sh: $raw or $results already exists; move them away to measure again" >&2
    exit 1
fi

# run_one SCENARIO WORKLOAD REP: one sysbench run, timed by GNU time.
# The cpu run stops after --time=5, so its wall time is set by that option: it is kept
# in <log>.time but not imported. The memory run stops after 10 GiB, so its wall time
# is a measurement: GNU time appends it to the log and it is imported as wall_s.
run_one() {
    local scenario="$1" workload="$2" rep="$3"
    local log="$raw/$scenario/$workload-$rep.log"
    local prefix=()
    [[ "$scenario" == pinned-cpu0 ]] && prefix=(taskset -c 0)
    case "$workload" in
        cpu)
            /usr/bin/time -f %e -o "$log.time" "${prefix[@]}" \
                sysbench cpu --threads=1 --cpu-max-prime=20000 --time=5 run >"$log"
            ;;
        memory)
            /usr/bin/time -f %e -a -o "$log" "${prefix[@]}" \
                sysbench memory --memory-block-size=1M --memory-total-size=10G run >"$log"
            ;;
    esac
    echo "rep $rep/$reps  $scenario  $workload  done" >&2
}

mkdir -p "${scenarios[@]/#/$raw/}"
{
    echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "uname: $(uname -srvmo)"
    echo "os: $(. /etc/os-release && echo "$PRETTY_NAME") (debian_version $(cat /etc/debian_version))"
    echo "cpu_model: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "online_cpus: $(nproc)"
    echo "sysbench: $(sysbench --version)"
    echo "loadavg_before: $(cat /proc/loadavg)"
    echo "lscpu:"
    lscpu | sed 's/^/  /'
} >"$raw/environment.txt"

# Interleave: odd reps run native first, even reps pinned-cpu0 first, so slow drift
# of the machine (other load, thermal) cannot pass for a difference between scenarios.
for ((rep = 1; rep <= reps; rep++)); do
    order=("${scenarios[@]}")
    ((rep % 2 == 0)) && order=("${scenarios[1]}" "${scenarios[0]}")
    for scenario in "${order[@]}"; do
        for workload in "${workloads[@]}"; do
            run_one "$scenario" "$workload" "$rep"
        done
    done
done
echo "loadavg_after: $(cat /proc/loadavg)" >>"$raw/environment.txt"

cd "$repo"
for scenario in "${scenarios[@]}"; do
    python3 -m snpappliance import "$raw/$scenario" --scenario "$scenario" \
        --host "$(hostname)" --out "$results"
done
