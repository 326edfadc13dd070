#!/bin/bash
# Records the outputs SlurmListingsTest reads, from a Slurm whose tools run in ROOT (the testbed's
# trixie root for slurm24, or / for a host's own Slurm), into OUT_DIR: <name>.stdout, .stderr,
# .rc, and ids.properties, which maps the job ids of the 22.05 recordings (README.md) to the ids
# this Slurm gave the same jobs, so both versions answer the same assertions. It needs an
# otherwise idle cluster and about 3 minutes, and stops slurmctld with SIGSTOP for 15 s (the
# sbatch-ctld-frozen case): never run it on a shared Slurm.
#   usage: record.sh ROOT OUT_DIR [SLURM_CONF inside ROOT]
set -euo pipefail
root=${1:?usage: record.sh ROOT OUT_DIR [SLURM_CONF]}
out=${2:?usage: record.sh ROOT OUT_DIR [SLURM_CONF]}
conf=${3:-/etc/slurm/slurm.conf}
mkdir -p "$out"
F='JobID:|,State:|,Reason:|,exit_code:|'
declare -A ID # 22.05 id -> this Slurm's id

# slurm_in CONF CMD...: runs a Slurm command in the root with that slurm.conf
slurm_in() {
	local c=$1
	shift
	chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 HOME=/root SLURM_CONF="$c" "$@"
}
# rec NAME CMD...: records one command against the live controller
rec() { rec_with "$conf" "$@"; }
rec_with() {
	local c=$1 name=$2 rc=0
	shift 2
	slurm_in "$c" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || rc=$?
	printf '%s\n' "$rc" >"$out/$name.rc"
}
# sub OLD_ID SBATCH_ARGS...: submits and maps the 22.05 id to the new one
sub() {
	local old=$1
	shift
	ID[$old]=$(slurm_in "$conf" sbatch --parsable -p debug --chdir=/tmp -o /dev/null "$@")
}
state() { slurm_in "$conf" squeue -h -t all --jobs="$1" -o %T 2>/dev/null || true; }
await() { # await ID STATE...
	local id=$1 i
	shift
	for ((i = 0; i < 150; i++)); do
		[[ " $* " == *" $(state "$id") "* ]] && return 0
		sleep 1
	done
	echo "job $id never reached $*" >&2
	return 1
}
ended() { await "$1" COMPLETED FAILED CANCELLED TIMEOUT; }
ids() { local i r=(); for i in "$@"; do r+=("${ID[$i]}"); done; (IFS=,; printf '%s' "${r[*]}"); }

# the same jobs twice: 22-28 for scontrol, scancel and sbatch, 51-57 for squeue; the sleepers take
# the whole node (--exclusive), so one runs and the others wait, as on the 22.05 node
series() {
	local b=$1 p=$2
	sub $((b)) -J "${p}ok" --wrap true
	sub $((b + 1)) -J "${p}three" --wrap 'exit 3'
	sub $((b + 2)) -J "${p}k9" --wrap 'kill -9 $$'
	sub $((b + 3)) -J "${p}sleep" --exclusive --wrap 'sleep 300'
	sub $((b + 4)) -J "${p}sleep" --exclusive --wrap 'sleep 300'
	sub $((b + 5)) -J "${p}sleep" --exclusive --wrap 'sleep 300'
	sub $((b + 6)) -J "${p}held" -H --wrap true
	ended "${ID[$b]}" && ended "${ID[$((b + 1))]}" && ended "${ID[$((b + 2))]}" && await "${ID[$((b + 3))]}" RUNNING
}

series 22 rec-
rec scontrol-three scontrol show job -o "${ID[23]}"
rec scontrol-k9 scontrol show job -o "${ID[24]}"
rec scontrol-unknown scontrol show job -o 999999
rec scontrol-hold-unknown scontrol hold 999999
rec scontrol-hold-mixed scontrol hold "${ID[27]},999999,${ID[22]}"
rec scontrol-release scontrol release "$(ids 27 28)"
rec scontrol-release-unknown scontrol release 999999
rec squeue-name squeue -h -t all --name=rec-ok,rec-three,nosuchname -O 'JobID:|,Name:|,State:|'
rec squeue-name-none squeue -h -t all --name=nosuchname -O 'JobID:|,Name:|,State:|'
rec sacct-disabled sacct -P -n -X -j "$(ids 22 23)" --format=JobID,State,ExitCode,Reason
rec sbatch-ok sbatch --parsable -p debug --chdir=/tmp -o /dev/null --wrap true
ID[29]=$(cat "$out/sbatch-ok.stdout")
rec sbatch-bad-partition sbatch --parsable -p nosuchpart --chdir=/tmp -o /dev/null --wrap true
rec sbatch-too-much-mem sbatch --parsable -p debug --mem=999999999 --chdir=/tmp -o /dev/null --wrap true
rec sbatch-bad-option sbatch --parsable -p debug --nosuchoption=1 --chdir=/tmp -o /dev/null --wrap true
rec sbatch-bad-gres sbatch --parsable -p debug --gres=gpu:1 --chdir=/tmp -o /dev/null --wrap true
rec sbatch-bad-account sbatch --parsable -p debug --account=nosuchacct --chdir=/tmp -o /dev/null --wrap true
ID[31]=$(cat "$out/sbatch-bad-account.stdout")
rec scancel-unknown scancel 999999
rec scancel-batch scancel "${ID[25]}" "${ID[26]}" "${ID[27]}" 999999
for id in "${ID[28]}" "${ID[29]}" "${ID[31]}"; do slurm_in "$conf" scancel "$id" || true; done

series 51 rec2-
rec squeue-mixed squeue -h -t all --jobs="$(ids 51 52 53 54 55 56 57)" -O "$F"
rec squeue-one-known squeue -h -t all --jobs="${ID[52]}" -O "$F"
rec squeue-empty-all-unknown squeue -h -t all --jobs=999998,999999 -O "$F"
rec squeue-one-unknown squeue -h -t all --jobs=999999 -O "$F"
rec squeue-known-and-unknown squeue -h -t all --jobs="${ID[51]},999999" -O "$F"
slurm_in "$conf" scontrol hold "${ID[56]}"
rec scontrol-hold-running scontrol hold "${ID[54]}"
rec squeue-after-hold squeue -h -t all --jobs="$(ids 54 56 57)" -O "$F"
slurm_in "$conf" scancel "${ID[54]}" "${ID[55]}" "${ID[56]}"
slurm_in "$conf" scontrol release "${ID[57]}"
ended "${ID[57]}"
rec squeue-cancelled squeue -h -t all --jobs="$(ids 54 55 56 57)" -O "$F"
sub 42 -J rec-timeout --time=1 --wrap 'sleep 300'

# a controller nothing answers for: the same commands with a slurm.conf naming an unused port
down=/tmp/jobyard-record-down.conf
frozen=/tmp/jobyard-record-frozen.conf
grep -v -e '^SlurmctldPort=' -e '^MessageTimeout=' "$root$conf" >"$root$down"
cp "$root$down" "$root$frozen"
printf 'SlurmctldPort=%s\nMessageTimeout=3\n' 6899 >>"$root$down"
printf 'SlurmctldPort=%s\nMessageTimeout=10\n' "$(awk -F= '/^SlurmctldPort=/ {print $2}' "$root$conf")" >>"$root$frozen"
rec_with "$down" squeue-ctld-down squeue -h -t all --jobs="$(ids 51 52)" -O "$F"
rec_with "$down" squeue-one-ctld-down squeue -h -t all --jobs="${ID[52]}" -O "$F"
rec_with "$down" squeue-name-ctld-down squeue -h -t all --name=rec-ok -O 'JobID:|,Name:|,State:|'
rec_with "$down" sbatch-ctld-down sbatch --parsable -p debug --chdir=/tmp -o /dev/null --wrap true
rec_with "$down" scancel-ctld-down scancel "${ID[22]}"
rec_with "$down" scontrol-hold-ctld-down scontrol hold "${ID[22]}"

# slurmctld stopped for 15 s while sbatch waits 10 s for it
ctld=$(pgrep -x slurmctld | while read -r p; do if [[ $root == / || $(readlink "/proc/$p/root") == "${root%/}" ]]; then echo "$p"; fi; done | head -n 1)
kill -STOP "$ctld"
rec_with "$frozen" sbatch-ctld-frozen sbatch --parsable -p debug --chdir=/tmp -o /dev/null --wrap true
sleep 5
kill -CONT "$ctld"
rm -f "$root$down" "$root$frozen"

await "${ID[42]}" TIMEOUT
rec squeue-timeout squeue -h -t all --jobs="$(ids 22 42)" -O "$F"
for k in $(printf '%s\n' "${!ID[@]}" | sort -n); do printf '%s=%s\n' "$k" "${ID[$k]}"; done >"$out/ids.properties"
echo "recorded $(find "$out" -name '*.rc' | wc -l) commands in $out"
