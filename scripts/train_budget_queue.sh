#!/usr/bin/env bash
# Train the budget recipes (recipes/budget/NAME.toml) into runs/budget/NAME and run the budget
# ablation studies (recipes/ablations/NAME.toml, `tinct ablate`, into runs/ablations/NAME), one
# after another in the order below, each at the lowest CPU priority (nice 19) so interactive
# work on the machine comes first.
#
#   scripts/train_budget_queue.sh [NAME ...]      # default: all of them, in the order below
#   nohup scripts/train_budget_queue.sh > runs/budget/queue.log 2>&1 &   # in the background
#
# Run it again at any time (after a reboot, a kill): a model whose run finished (its
# model.safetensors exists: budget recipes have no patience, so that file is written only when
# the run ends) is skipped, an interrupted one resumes from its checkpoint, the rest start; a
# study whose report (runs/ablations/NAME/ablation.md) exists is skipped, another trains its
# variants (resuming, reusing finished ones) and evaluates them.
# Each model logs to runs/budget/NAME.log; only one queue runs at a time (runs/budget/queue.lock).
# Environment: BUDGET_RUNS (default runs/budget), PYTHON (default .venv/bin/python if present),
# TINCT_WEIGHTS_DIR (default ../shared/weights).
# OpenMP threads wait asleep, not spinning (OMP_WAIT_POLICY=PASSIVE): on a busy machine a spinning
# thread burns CPU time that the budget would count as training (recipes/README.md).
set -u
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# the VGG16 models start from ImageNet weights: the shared copy, never a download
export TINCT_WEIGHTS_DIR=${TINCT_WEIGHTS_DIR:-../shared/weights} TINCT_OFFLINE=${TINCT_OFFLINE:-1}

out=${BUDGET_RUNS:-runs/budget}
python=${PYTHON:-python3}
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && python=.venv/bin/python
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(surveillance eccv16 guided vgg16_regression vgg16_bins fusion
    budget-gradient-prior budget-architectures-by-data tinct-lite-recurrent
    tinct-lite-recurrent-ablation propagation-refiner)

mkdir -p "$out"
exec 9>"$out/queue.lock"
if ! flock -n 9; then
    echo "another budget queue holds $out/queue.lock; not starting a second one" >&2
    exit 1
fi
echo $$ >"$out/queue.pid"

study() {  # study NAME: tinct ablate recipes/ablations/NAME.toml, unless its report exists
    local name=$1 report="runs/ablations/$1/ablation.md"
    if [ -f "$report" ]; then
        echo "$(date -Is) $name: finished earlier ($report), skipped"
        return
    fi
    echo "$(date -Is) $name: ablation study, log $out/$name.log"
    nice -n 19 "$python" -m tinct ablate "recipes/ablations/$name.toml" >>"$out/$name.log" 2>&1
    echo "$(date -Is) $name: exit status $?"
}

for name in "${models[@]}"; do
    if [ ! -f "recipes/budget/$name.toml" ] && [ -f "recipes/ablations/$name.toml" ]; then
        study "$name"
        continue
    fi
    run="$out/$name"
    if [ -f "$run/model.safetensors" ]; then
        echo "$(date -Is) $name: finished earlier ($run/model.safetensors), skipped"
        continue
    fi
    what="starting"
    [ -f "$run/checkpoint.pt" ] && what="resuming"
    echo "$(date -Is) $name: $what, log $out/$name.log"
    echo "=== $(date -Is) $what: tinct train recipes/budget/$name.toml --out $run" >>"$out/$name.log"
    nice -n 19 "$python" -m tinct train "recipes/budget/$name.toml" --out "$run" \
        >>"$out/$name.log" 2>&1
    status=$?
    echo "=== $(date -Is) exit status $status" >>"$out/$name.log"
    echo "$(date -Is) $name: exit status $status"
done
echo "$(date -Is) queue done"
