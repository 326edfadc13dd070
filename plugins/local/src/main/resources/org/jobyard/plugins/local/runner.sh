# Jobyard local runner (bash 5.1+: wait -n -p). One per job folder root, started detached with setsid:
#   setsid bash <root>/.runner/runner.sh <root> <idle seconds> </dev/null >/dev/null 2>&1 &
# It runs the jobs handed to it, at most <root>/.runner/slots at once, each as one forked
# subshell that sources the job's run.sh (which execs its last step), and records each job's
# pid and exit code with builtins only: per job, one fork and the payload's exec, as xargs.
#
# Hand-over: the engine writes <root>/<tag>/run.sh, then a file in <root>/.spool naming tags, one
# a line (spool files are read in name order). A job is claimed by creating <tag>/started with
# noclobber (O_EXCL), so no job runs twice, even with two runners or a spool file read again.
# What it writes in the job folder: started, pid ("<pid> <start time> <runner pid>"), exitcode;
# then <root>/.done/<tag> for the engine's completion watch. It stops after $idle seconds with
# nothing to do, or when the root is removed; a submit or poll starts it again when needed.
set -m # every job in a process group of its own: cancel and the end of a job TERM its whole tree
W=$1
R=$W/.runner
idle=${2:-60}
P=1
declare -A run=() # pid -> tag
declare -a queue=()
declare -A last=() # spool file -> index of its last tag in the queue
qh=0
qt=0
n=0
chld=0
trap 'chld=1' CHLD

alive_runner() {
  local a=()
  mapfile -t -d '' a < "/proc/$1/cmdline" 2>/dev/null || return 1
  [ "${a[1]}" = "$R/runner.sh" ] && return 0
  case " ${a[*]} " in *" $R/jvm "*) return 0 ;; esac # the Java runner (JobRunner)
  return 1
}

# a root being removed (its spool folder gone) gets no runner
[ -d "$W/.spool" ] || exit 0
# one runner per root: a second one that finds the first alive leaves (claims keep it safe anyway)
if ! { set -C; echo "$$" > "$R/pid"; } 2>/dev/null; then
  set +C
  o=; read -r o < "$R/pid"
  if [ -n "$o" ] && [ "$o" != "$$" ] && alive_runner "$o"; then exit 0; fi
  echo "$$" > "$R/pid"
fi
set +C
# the names of the variables every job inherits from the runner, listed once: a job's run.sh
# unsets those it must not see from this list, instead of a $(export -p) subshell per job
mapfile -t jy_exported < <(compgen -e 2>/dev/null)

# start time of a process (field 22 of /proc/<pid>/stat): with the pid, it names the process
starttime() {
  local s=
  st=-
  read -r s 2>/dev/null < "/proc/$1/stat" || return 0 # (2> first: a gone pid says nothing)
  s=${s##*) }
  set -- $s
  st=${20:--}
}

start() {
  local t=$1 d=$W/$1
  [ -f "$d/run.sh" ] || return 0
  { set -C; : > "$d/started"; } 2>/dev/null || { set +C; return 0; }
  set +C
  if [ -e "$d/cancelled" ]; then
    # cancelled before it started: empty outputs in its folder, so collecting it finds them
    : > "$d/stdout"
    : > "$d/stderr"
    echo 143 > "$d/exitcode"
    : > "$W/.done/$t"
    return 0
  fi
  ( set +m; trap - CHLD; g=$BASHPID; . "$d/run.sh" ) </dev/null >/dev/null 2>&1 &
  local p=$!
  starttime "$p"
  echo "$p $st $$" > "$d/pid"
  # a cancel that came between the check above and the pid file did not see the pid: it is
  # seen here (the cancel writes its mark first, then reads the pid)
  [ -e "$d/cancelled" ] && kill -TERM -"$p" 2>/dev/null
  run[$p]=$t
  n=$((n + 1))
}

ended() {
  local p=$1 ec=$2 t=${run[$1]}
  [ -n "$t" ] || return 0
  unset "run[$p]"
  n=$((n - 1))
  echo "$ec" > "$W/$t/exitcode"
  kill -TERM -"$p" 2>/dev/null # what the job left running in its group ends with it
  : > "$W/.done/$t"
}

# collects jobs that ended without blocking: bash has reaped them already (SIGCHLD)
reap() {
  chld=0
  local p
  for p in "${!run[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      wait "$p"
      ended "$p" $?
    fi
  done
}

scan() {
  local f t found=0
  for f in "$W"/.spool/*; do
    case $f in *.tmp | */\*) continue ;; esac
    [ -n "${last[$f]}" ] && continue
    while IFS= read -r t; do
      case $t in '' | */* | .*) continue ;; esac
      queue[qt]=$t
      qt=$((qt + 1))
    done < "$f"
    last[$f]=$((qt - 1))
    found=1
  done
  if [ $found = 1 ]; then
    read -r P < "$R/slots" 2>/dev/null
    case $P in '' | *[!0-9]* | 0) P=1 ;; esac
  fi
  return 0
}

# removes spool files whose every tag has been taken from the queue: one rm for many files
tidy() {
  local f gone=()
  for f in "${!last[@]}"; do
    [ "${last[$f]}" -lt "$qh" ] && gone+=("$f")
  done
  [ ${#gone[@]} -gt 0 ] || return 0
  rm -f -- "${gone[@]}"
  for f in "${gone[@]}"; do unset "last[$f]"; done
}

exec 9<> "$R/wake" || exit 1 # a pipe nobody writes (made by the starter): read -t on it sleeps
read -r P < "$R/slots" 2>/dev/null
case $P in '' | *[!0-9]* | 0) P=1 ;; esac
# jobs handed over but never spooled (the engine stopped in between) or spooled to a runner that
# stopped before it started them: their folders say so
for f in "$W"/*/run.sh; do
  d=${f%/run.sh}
  [ -f "$f" ] && [ ! -e "$d/started" ] || continue
  queue[qt]=${d##*/}
  qt=$((qt + 1))
done
quiet=$SECONDS
scan
while :; do
  while [ $n -lt "$P" ] && [ $qh -lt $qt ]; do
    start "${queue[qh]}"
    unset "queue[qh]"
    qh=$((qh + 1))
  done
  if [ $n -ge "$P" ]; then
    wait -n -p p
    ec=$?
    ended "$p" $ec
    [ $qh -lt $qt ] || scan
    continue
  fi
  [ $chld = 1 ] && reap
  [ ${#last[@]} -gt 0 ] && [ $qh -ge $qt ] && tidy
  before=$qt
  scan
  [ $qt -gt $before ] && { quiet=$SECONDS; continue; }
  [ $n -gt 0 ] && quiet=$SECONDS
  if [ $((SECONDS - quiet)) -ge "$idle" ]; then
    [ -d "$W/.spool" ] || exit 0
    # leave, unless a hand-over came in meanwhile: the pid file goes first, so a submit that
    # finds no runner starts one, and one that found this runner has spooled before this scan
    o=; read -r o < "$R/pid" 2>/dev/null
    [ "$o" = "$$" ] && rm -f -- "$R/pid"
    scan
    [ $qt -gt $before ] || exit 0
    echo "$$" > "$R/pid"
    quiet=$SECONDS
    continue
  fi
  [ -d "$W/.spool" ] || exit 0
  if [ $n -gt 0 ] || [ $((SECONDS - quiet)) -lt 2 ]; then
    read -r -t 0.005 -u 9 _
  else
    read -r -t 0.1 -u 9 _
  fi
done
