# Sourced by spark/cluster-test and spark/cluster-throughput: a Spark standalone cluster on 127.0.0.1 made of the
# Spark jars this module builds against (no Spark download), with everything it starts stopped at exit, also on
# failure. Every process goes into a process group of its own (setsid), so stopping a worker's group stops the
# executors it launched too. Ports are chosen by the JVMs themselves (port 0) and read back from the logs, so runs
# beside other Spark processes do not collide.
#
# Before sourcing: $here (the spark/ folder). After it: cluster_deadline, cluster_build, cluster_start,
# cluster_submit, worker_executors, await_log, the work folder $work, $master_url and $worker_pids once started.
# Set GPULRP_KEEP_CLUSTER_WORK=1 to keep $work.

source "$here/scripts/jvm.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/gpulrp-cluster.XXXXXX")"
started_groups=()  # process-group leaders started here (setsid); stopped in this order's reverse
master_url=""
worker_pids=()

cluster_stop() {
  local rc=$? p i alive
  trap - EXIT INT TERM
  for ((i = ${#started_groups[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${started_groups[i]}" 2>/dev/null || true
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for p in "${started_groups[@]}"; do
      kill -0 -- "-$p" 2>/dev/null && alive=1
    done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${started_groups[@]}"; do
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  if ((rc != 0)); then
    echo "cluster: failed (exit $rc); last lines of each log under $work:" >&2
    find "$work" -name '*.log' -o -name stderr | while read -r f; do
      echo "--- $f" >&2
      tail -n 25 "$f" >&2
    done
  fi
  if [[ ${GPULRP_KEEP_CLUSTER_WORK:-0} == 1 ]]; then
    echo "cluster: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cluster_stop EXIT
trap 'exit 143' INT TERM

# Over the time limit the script stops itself (the EXIT trap then stops the cluster).
cluster_deadline() {
  local seconds=$1 self=$$
  setsid bash -c "sleep $seconds; echo 'cluster: over ${seconds} s, stopping' >&2; kill -TERM $self" \
    </dev/null >/dev/null &
  started_groups+=("$!")
}

# Builds the module (with its test classes), then lays out a Spark home whose jars/ are Spark's own (the "provided"
# classpath): the Worker starts executors with SPARK_HOME/jars/* on their classpath, as an installed Spark would.
cluster_build() {
  (cd "$here" && mvn -q -B -ntp -DskipTests package dependency:build-classpath -DincludeScope=provided \
    -Dmdep.outputFile=target/spark-classpath.txt)
  spark_cp="$(cat "$here/target/spark-classpath.txt")"
  app_jar="$(ls "$here"/target/gpulrp-spark-*-all.jar)"
  mkdir -p "$work/spark-home/jars"
  local j
  IFS=: read -ra jars <<<"$spark_cp"
  for j in "${jars[@]}"; do
    ln -s "$j" "$work/spark-home/jars/"
  done
}

# Waits up to $2 seconds for the regular expression $3 in file $1; prints the first match's line.
await_log() {
  local file=$1 seconds=$2 pattern=$3 i line
  for ((i = 0; i < seconds * 5; i++)); do
    line="$(grep -E -m1 "$pattern" "$file" 2>/dev/null || true)"
    if [[ -n $line ]]; then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.2
  done
  echo "cluster: no '$pattern' in $file after $seconds s" >&2
  return 1
}

# A Spark daemon JVM (Master or Worker) in its own process group, logging to $work/$1.log.
spark_daemon() {
  local name=$1
  shift
  SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 JAVA_HOME="$java_home" \
    setsid "$java_home/bin/java" -Xmx256m "${spark_flags[@]}" -cp "$spark_cp" "$@" </dev/null \
    >"$work/$name.log" 2>&1 &
  started_groups+=("$!")
}

# A master and $1 workers, each worker offering one core and $2 of memory (one executor of that size).
cluster_start() {
  local n=$1 memory=$2 i
  spark_daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0
  master_url="$(await_log "$work/master.log" 60 'Starting Spark master at spark://' | grep -oE 'spark://[^ ]+')"
  await_log "$work/master.log" 30 'I have been elected leader' >/dev/null
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$work/worker$i"
    spark_daemon "worker$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
      --cores 1 --memory "$memory" --work-dir "$work/worker$i" "$master_url"
    worker_pids+=("${started_groups[-1]}")
  done
  for ((i = 1; i <= n; i++)); do
    await_log "$work/worker$i.log" 60 'Successfully registered with master' >/dev/null
  done
  echo "cluster: master $master_url, $n worker(s) with 1 core and $memory each" >&2
}

# spark-submit (client mode: the driver is this JVM, in its own process group, with a heap of $driver_heap (default
# 1g), logging to $work/$driver_log (default driver.log)) with executors of one core and $1 of memory, $2 of them at
# most; the rest are spark-submit's arguments, from --class. Sets driver_pid.
cluster_submit() {
  local memory=$1 executors=$2
  shift 2
  (cd "$work" && LD_PRELOAD="$jsig${LD_PRELOAD:+:$LD_PRELOAD}" SPARK_LOCAL_IP=127.0.0.1 \
    exec setsid "$java_home/bin/java" "-Xmx${driver_heap:-1g}" "${gpulrp_flags[@]}" "${spark_flags[@]}" \
    -cp "$spark_cp" \
    org.apache.spark.deploy.SparkSubmit --master "$master_url" --deploy-mode client \
    --executor-memory "$memory" --executor-cores 1 --total-executor-cores "$executors" \
    --conf spark.driver.host=127.0.0.1 --conf spark.ui.enabled=false \
    --conf "spark.executorEnv.LD_PRELOAD=$jsig" \
    --conf "spark.executor.extraJavaOptions=${gpulrp_flags[*]}" \
    "$@") </dev/null >"$work/${driver_log:-driver.log}" 2>&1 &
  driver_pid=$!
  started_groups+=("$driver_pid")
}

# The pids of the executor JVMs (CoarseGrainedExecutorBackend) that worker $1 (its pid) launched, read from /proc.
worker_executors() {
  local worker=$1 p stat rest
  for p in /proc/[0-9]*; do
    stat="$(cat "$p/stat" 2>/dev/null)" || continue
    rest="${stat##*) }"
    read -r _ ppid _ <<<"$rest"
    if [[ $ppid == "$worker" ]] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q CoarseGrainedExecutorBackend; then
      echo "${p#/proc/}"
    fi
  done
}
