#!/bin/sh
# A rank killed (SIGKILL) mid-run ends a two-rank `lra_cpu train` with an error, not a hang;
# rank 0 names the lost rank and says how to continue; the run folder's last checkpoint stays
# valid (lra_cpu eval reads it).
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
# rank 0 itself (not only mpirun) names the lost rank and the way on
grep -q "lra_cpu (rank 0): rank 1 (pid [0-9]*) has ended and mpirun is stopping the job; the last checkpoint in run stays valid: continue with lra_cpu train --resume run" out.txt || {
  echo "FAIL: rank 0 did not name the lost rank and --resume"
  exit 1
}
"$lra" eval --run run --split val --checkpoint last >eval.txt 2>&1 || {
  cat eval.txt
  echo "FAIL: the last checkpoint of the killed run does not load"
  exit 1
}
echo "ok: the job ended with exit code $rc and the last checkpoint loads"
