#!/bin/sh
# A rank killed (SIGKILL) mid-run ends a two-rank `lra_cpu train` with an error, not a hang;
# the run folder's last checkpoint stays valid (lra_cpu eval reads it).
# Usage: killed_rank.sh MPIRUN LRA_CPU WORKDIR
set -u
mpirun=$1 lra=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
# Rank 1 starts training and kills itself with SIGKILL once the run has logged steps; rank 0
# trains "forever" (100000 steps): only the kill can end the job.
timeout 150 "$mpirun" --allow-run-as-root --oversubscribe -np 2 sh -c '
  lra=$0
  set -- train --task listops --preset tiny --steps 100000 --threads 1 --out run \
    --gen-train 400 --gen-val 64 --gen-test 64 --save-every 10 --log-every 10
  if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then
    "$lra" "$@" & pid=$!
    while [ ! -s run/metrics.jsonl ]; do sleep 0.2; done
    kill -9 $pid
    wait $pid
    exit $?
  fi
  exec "$lra" "$@"' "$lra" >out.txt 2>&1
rc=$?
cat out.txt
echo "mpirun exit code: $rc"
if [ $rc -eq 124 ]; then echo "FAIL: the job hung after rank 1 was killed"; exit 1; fi
if [ $rc -eq 0 ]; then echo "FAIL: the job reported success"; exit 1; fi
grep -qi "rank 1\|signal 9\|killed" out.txt || { echo "FAIL: no message names the dead rank"; exit 1; }
"$lra" eval --run run --split val --checkpoint last >eval.txt 2>&1 || {
  cat eval.txt
  echo "FAIL: the last checkpoint of the killed run does not load"
  exit 1
}
echo "ok: the job ended with exit code $rc and the last checkpoint loads"
