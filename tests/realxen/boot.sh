#!/usr/bin/env bash
# Boots Xen 4.17 in QEMU (TCG) with the images build-images.sh left in DIR, serial console to
# DIR/serial.log; echoes REALXEN/STUBDM markers as they appear, with the host time since QEMU
# started. Bounded by progress: QEMU is killed when the serial log has not grown for
# REALXEN_BOOT_STALL seconds (default 300: longer than the scenario's own stall window, so
# a stuck step reports itself first), after TIMEOUT seconds whatever happens (a backstop
# for a run that keeps printing without ending), on "Panic on CPU" or "crashed: 'noreboot'",
# and on any exit of this script (its whole process group).
# The VM runs at a higher CPU priority than the rest of the machine (REALXEN_VM_NICE, default
# -10; 0 turns it off): libxl 4.17 inside it gives a device model a fixed 60 s of the VM's own
# clock (LIBXL_DEVICE_MODEL_START_TIMEOUT, compiled in), which a VM starved by builds beside
# it does not meet. The kernel's autogroups (one per session) make a process's own nice count
# only inside its session, so the new session's group gets the same nice.
# Usage: [REALXEN_DOM0_ARGS="realxen.skip=stage1,route"] boot.sh DIR [TIMEOUT]
# Exit status: 0 QEMU powered off, 1 panic/crash, 124 timeout or stall
set -uo pipefail
dir=$1
limit=${2:-240}
log=$dir/serial.log
: >"$log"
qemu=${REALXEN_QEMU:-qemu-system-x86_64}
# Multiboot: Xen is the kernel, the modules are "-initrd", comma-separated, each "file args".
# Paths must not contain commas or spaces.
case "$dir" in *,*|*' '*) echo "boot.sh: '$dir' must not contain commas or spaces" >&2; exit 2 ;; esac
# QEMU's option syntax: a comma inside a module's arguments is written ",,".
dom0_args=${REALXEN_DOM0_ARGS:-}
dom0_args=${dom0_args//,/,,}
vm_nice=${REALXEN_VM_NICE:--10}
start=$(date +%s.%N)
setsid nice -n "$vm_nice" timeout -k 5 "$limit" "$qemu" -accel tcg,thread=multi -cpu qemu64,+svm,+npt \
  -m 2048 -smp 2 -display none -vga none -monitor none -nodefaults -no-user-config \
  -serial "file:$log" -no-reboot \
  -kernel "$dir/xen.elf" \
  -append "dom0_mem=768M,max:768M console=com1 com1=115200,8n1 noreboot ${REALXEN_XEN_ARGS:-}" \
  -initrd "$dir/vmlinuz console=hvc0 loglevel=4 $dom0_args,$dir/dom0.cpio" \
  </dev/null >"$dir/qemu.out" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null; sleep 0.2; kill -9 -- -$pid 2>/dev/null' EXIT
# setsid must have made the new session before its group is changed (else the caller's is)
for _ in $(seq 50); do [[ "$(ps -o sid= -p "$pid" | tr -d ' ')" == "$pid" ]] && break; sleep 0.1; done
if [[ $vm_nice -ne 0 && -e /proc/$pid/autogroup ]] && ! echo "$vm_nice" >"/proc/$pid/autogroup" 2>/dev/null; then
  echo "boot.sh: NOTE: cannot give the VM's session the CPU priority $vm_nice (not root?): it shares the CPU with the rest of the machine" >&2
fi
trap 'exit 130' INT TERM

stall=${REALXEN_BOOT_STALL:-300}
seen=0 status=0 done_at= moved=$start
while kill -0 "$pid" 2>/dev/null; do
  sleep 0.5
  now=$(date +%s.%N)
  total=$(wc -l <"$log")
  if [[ $total -gt $seen ]]; then
    sed -n "$((seen + 1)),${total}p" "$log" | tr -d '\r' | grep -a -E '^(REALXEN|STUBDM|FAKEDM|FAKESTUBDM|AWAITDM):' |
      while IFS= read -r l; do printf '[%6.1fs] %s\n' "$(echo "$now $start" | awk '{print $1-$2}')" "$l"; done
    seen=$total
    moved=$now
  fi
  if awk -v a="$now" -v b="$moved" -v s="$stall" 'BEGIN{exit !(a-b > s)}'; then
    echo "boot.sh: the serial log has not grown for ${stall}s; killing QEMU" >&2
    status=124; break
  fi
  if grep -a -q -e 'Panic on CPU' -e "crashed: 'noreboot'" "$log"; then
    echo "boot.sh: Xen panicked or dom0 crashed; killing QEMU" >&2
    status=1; break
  fi
  if [[ -z "$done_at" ]] && grep -a -q '^REALXEN: DONE' "$log"; then done_at=$now; fi
  if [[ -n "$done_at" ]] && awk -v a="$now" -v b="$done_at" 'BEGIN{exit !(a-b > 15)}'; then
    echo "boot.sh: dom0 finished but QEMU did not power off; killing it" >&2
    break
  fi
done
if [[ $status -eq 0 ]]; then
  wait "$pid"; rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "boot.sh: timed out after ${limit}s" >&2; status=124
  elif [[ $rc -ne 0 ]]; then
    echo "boot.sh: QEMU failed (exit status $rc):" >&2; cat "$dir/qemu.out" >&2; status=1
  fi
fi
# the lines the loop may not have seen yet
total=$(wc -l <"$log")
sed -n "$((seen + 1)),\$p" "$log" | tr -d '\r' | grep -a -E '^(REALXEN|STUBDM|FAKEDM|FAKESTUBDM|AWAITDM):' |
  sed 's/^/[  end ] /'
printf 'boot.sh: QEMU ran %.1fs\n' "$(echo "$(date +%s.%N) $start" | awk '{print $1-$2}')"
exit $status
