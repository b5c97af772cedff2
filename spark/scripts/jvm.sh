# Sourced by spark/run and spark/cluster-test: the JDK on the PATH and the JVM flags gpulrp and Spark need on
# Java 17 (the library's Vector API and native access; the opens from Spark's own JavaModuleOptions list).
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
gpulrp_flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
spark_flags=(-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
    java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  spark_flags+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
# PoCL's LLVM replaces the JVM's signal handlers; the JDK's chaining library keeps the JVM's first.
jsig="$java_home/lib/libjsig.so"
