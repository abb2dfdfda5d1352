#!/usr/bin/env bash
# The Linux stub image's boot without Xen: stubdom-mkimage's rootfs and Debian's kernel booted
# straight in qemu-system-x86_64 under TCG (as realxen's Xen runs), timed from QEMU's start to
# the stub init's first line on the serial console. Off Xen the init's first line is its
# "FAIL insmod" (no Xen device to bind): everything before it — the kernel's boot, the
# initramfs unpacked, the init started — is what a stub domain's boot costs before the Xen
# parts, so the figures compare kernel command lines and images, not Xen.
# Prints key=value: stub_rootfs_mib, stub_rootfs_unpacked_mib, then per command line
# stub_boot_s (the stub's default, "quiet") and stub_boot_loud_s (no command line, what
# libxl gives a Linux stub), the median of STUBDOM_BENCH_RUNS runs (3; of an even count the
# lower middle), QEMU's CPU time for the same (*_cpu_s) and the console's line count. Never
# asserted on: a loaded machine moves them. The console here is a serial port that costs
# next to nothing per line; under Xen it is hvc0, a ring and an event to dom0 per write,
# so the quiet line's gain there is larger than these figures show.
# Usage: bench_stub_boot.sh [ROOTFS]   (default: one built now from this tree)
set -euo pipefail
here=$(cd "${0%/*}" && pwd)
src=$(cd "$here/../.." && pwd)
runs=${STUBDOM_BENCH_RUNS:-3}
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n "$kernel" ]] || { echo "SKIP: no /boot/vmlinuz-* (linux-image-amd64)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-stub-boot.XXXXXX")
qemu=
cleanup() { [[ -z "$qemu" ]] || kill -9 "$qemu" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
rootfs=${1:-}
if [[ -z "$rootfs" ]]; then
  rootfs=$work/rootfs
  if ! "$src/stubimage/stubdom-mkimage" --init "$src/stubimage/init" --kernel-out "$work/kernel" \
      --rootfs-out "$rootfs" >"$work/mkimage.log" 2>&1; then
    grep -q 'missing:' "$work/mkimage.log" && { echo "SKIP: $(tr '\n' ' ' <"$work/mkimage.log")"; exit 77; }
    cat "$work/mkimage.log" >&2; exit 1
  fi
  sed 's/^/bench: /' "$work/mkimage.log"
fi
printf 'stub_rootfs_mib=%.1f\n' "$(stat -c %s "$rootfs" | awk '{print $1/1048576}')"
case "$(head -c2 "$rootfs" | od -An -tx1 | tr -d ' ')" in
  1f8b) unpack=(gzip -dc) ;;
  0221) unpack=(lz4 -dc) ;;
  *) unpack=(cat) ;;
esac
printf 'stub_rootfs_unpacked_mib=%.1f\n' "$("${unpack[@]}" "$rootfs" | wc -c | awk '{print $1/1048576}')"

boot_once() { # APPEND -> sets t (seconds) and lines
  local log=$work/serial.log start end
  : >"$log"
  start=$(date +%s.%N)
  qemu-system-x86_64 -machine pc,accel=tcg -m 256 -nodefaults -display none -no-reboot \
    -serial "file:$log" -kernel "$kernel" -initrd "$rootfs" -append "$1" &
  qemu=$!
  # Progress, not a clock: QEMU running and its console growing; a boot that prints
  # nothing for 120 s (the init's line never comes) is reported, not waited for forever.
  # QEMU's own CPU time (user + system), sampled as it runs (the init powers the machine
  # off right after its line): the work done, which the other helpers' load on a shared
  # machine moves far less than the wall clock.
  local size=-1 still=0 hz stat
  hz=$(getconf CLK_TCK)
  cpu=0
  until grep -aq 'stubdom-init:' "$log"; do
    stat=$(cat "/proc/$qemu/stat" 2>/dev/null) && cpu=$(echo "$stat" | awk -v hz="$hz" '{printf "%.1f", ($14 + $15) / hz}')
    grep -aq 'stubdom-init:' "$log" && break
    kill -0 "$qemu" 2>/dev/null || { echo "bench: QEMU ended before the init's line" >&2; tail -5 "$log" >&2; exit 1; }
    local now; now=$(stat -c %s "$log")
    if [[ "$now" == "$size" ]]; then still=$((still + 1)); else still=0; size=$now; fi
    [[ $still -lt 600 ]] || { echo "bench: no console output for 120 s" >&2; tail -5 "$log" >&2; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  kill -9 "$qemu" 2>/dev/null || true; wait "$qemu" 2>/dev/null || true; qemu=
  t=$(echo "$end $start" | awk '{printf "%.1f", $1-$2}')
  lines=$(grep -ac . "$log")
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# The stub's console is hvc0 under Xen; here it is the serial port. no_timer_check: on a
# loaded host TCG can miss the kernel's IO-APIC timer check ("IO-APIC + timer doesn't
# work!" panic, seen at load 24); a PV stub has no such check.
for variant in "stub_boot_s:console=ttyS0 no_timer_check quiet" "stub_boot_loud_s:console=ttyS0 no_timer_check"; do
  key=${variant%%:*} append=${variant#*:}
  times=() cpus=() t= cpu= lines=0
  for ((i = 0; i < runs; i++)); do
    boot_once "$append"
    times+=("$t") cpus+=("$cpu")
    echo "bench: $key run $((i + 1)): ${t}s (QEMU CPU ${cpu}s), $lines console lines, load $(cut -d' ' -f1 /proc/loadavg)"
  done
  echo "$key=$(printf '%s\n' "${times[@]}" | median)"
  echo "${key%_s}_cpu_s=$(printf '%s\n' "${cpus[@]}" | median)"
  echo "${key%_s}_console_lines=$lines"
done
