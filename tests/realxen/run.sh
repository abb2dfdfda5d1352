#!/usr/bin/env bash
# The realxen test: builds the images, boots Xen 4.17 in QEMU, reads the scenario's markers.
# Usage: run.sh [--build-dir DIR] [--link-helper PATH] [--out DIR] [--timeout SECONDS]
#   --build-dir   the meson build dir (default: build-rx); the Debian packages of this tree,
#                 built into BUILD/debs by scripts/build-debs --reuse (or found there, built by
#                 the install+deb suite), are installed into dom0 with dpkg
#   --link-helper realxen-link, built by meson in BUILD/tests/realxen (default: found there)
#   --out         where images and the serial log go (default: BUILD/tests/realxen/realxen-run)
#   --require     a missing prerequisite fails (exit 1) instead of skipping (-Drealxen=enabled)
#   --linux       also the linux stage: an HVM guest whose QEMU runs in a Linux stub domain
#                 that stubdomd spawns from stubdom-mkimage's image (needs qemu-system-xen)
# Exit status: 0 pass, 1 fail, 77 skipped (something needed is not installed).
set -euo pipefail
here=$(cd "${0%/*}" && pwd)
src=$(cd "$here/../.." && pwd)
build= helper= out= limit=240 require=0 linux=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build=$2; shift ;;
    --link-helper) helper=$2; shift ;;
    --out) out=$2; shift ;;
    --timeout) limit=$2; shift ;;
    --require) require=1 ;;
    --linux) linux=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "realxen: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
skip() {
  [[ $require -eq 1 ]] && { echo "realxen: FAIL (realxen=enabled): $*"; exit 1; }
  echo "realxen: SKIP: $*"; exit 77
}
[[ -f /boot/xen-4.17-amd64.gz ]] || skip "/boot/xen-4.17-amd64.gz missing (scripts/install-deps --realxen)"
compgen -G "/boot/vmlinuz-*" >/dev/null || skip "no /boot/vmlinuz-* (linux-image-amd64)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (qemu-system-x86)"
for f in /usr/lib/xen-4.17/bin/xl /usr/lib/xen-4.17/bin/xenstored /usr/bin/xenstore /usr/bin/cpio /usr/bin/dbus-daemon /usr/bin/busctl; do
  [[ -x $f ]] || skip "$f missing (scripts/install-deps --realxen)"
done
command -v busybox >/dev/null || [[ -x /bin/busybox ]] || skip "busybox missing (busybox-static)"
for c in dpkg-buildpackage dh; do
  command -v $c >/dev/null || skip "$c missing (scripts/install-deps --realxen)"
done
if [[ $linux -eq 1 && ! -x /usr/libexec/xen-qemu-system-i386 ]]; then
  # Without it the other stages still run; only -Drealxen=enabled insists on all of them.
  [[ $require -eq 1 ]] && skip "/usr/libexec/xen-qemu-system-i386 missing (qemu-system-xen), the linux stage needs it"
  echo "realxen: NOTE: the linux stage is left out: /usr/libexec/xen-qemu-system-i386 missing (scripts/install-deps --realxen installs qemu-system-xen)"
  linux=0
fi
if [[ $linux -eq 1 ]]; then
  export REALXEN_LINUX=1
  export REALXEN_DOM0_ARGS="${REALXEN_DOM0_ARGS:-} realxen.linux=1"
fi
build=$(cd "${build:-$src/build-rx}" && pwd)
helper=${helper:-$build/tests/realxen/realxen-link}
out=${out:-$build/tests/realxen/realxen-run}
[[ -x "$helper" ]] || { echo "realxen: link helper '$helper' not built" >&2; exit 1; }

mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/realxen.XXXXXX")
trap 'rm -rf "$stage"' EXIT
t0=$(date +%s.%N)
# The project as an administrator installs it: its Debian packages. Built once per tree:
# the install+deb suite's test builds the same into the same directory.
if ! "$src/scripts/build-debs" --reuse "$build/debs" >"$stage/debs.log" 2>&1; then
  cat "$stage/debs.log" >&2; echo "realxen: FAIL scripts/build-debs" >&2; exit 1
fi
sed 's/^/realxen: /' "$stage/debs.log"
t_debs=$(date +%s.%N)
"$here/build-images.sh" --out "$out" --debs "$build/debs" --link-helper "$helper"
t1=$(date +%s.%N)
printf 'realxen: packages ready in %.1fs, images built in %.1fs\nrealxen_debs_s=%.1f\nrealxen_images_s=%.1f\n' \
  "$(echo "$t_debs $t0" | awk '{print $1-$2}')" "$(echo "$t1 $t_debs" | awk '{print $1-$2}')" \
  "$(echo "$t_debs $t0" | awk '{print $1-$2}')" "$(echo "$t1 $t_debs" | awk '{print $1-$2}')"

set +e
"$here/boot.sh" "$out" "$limit"
boot_rc=$?
set -e
log=$out/serial.log
# Each step's time inside dom0 (uptime seconds), and the whole boot's, as key=value.
printf 'realxen_boot_s=%.1f\n' "$(echo "$(date +%s.%N) $t1" | awk '{print $1-$2}')"
grep -a -o -E '^REALXEN: TIME [a-z0-9_]+=[0-9.]+' "$log" | sed 's/^REALXEN: TIME /realxen_/' || true
missing=()
for m in 'dom0 xen userspace up' 'xl info OK' 'stage1 HVM guest' 'stage1 stub domain .* created paused' \
         'stage1 link' 'stage1 target read back' 'stage1 stub domain wrote' 'stage1 teardown' \
         'RESULT PASS' 'DONE rc=0'; do
  grep -a -q -E "^REALXEN: $m" "$log" || missing+=("$m")
done
if [[ $linux -eq 1 ]]; then
  for m in 'linux xl create of .* returned 0' "linux the stub's QEMU started" 'linux QMP query-status answered' \
           "linux guest's own serial line read in dom0" 'linux screenshot of .* through OpenDisplay' \
           'linux teardown'; do
    grep -a -q -E "^REALXEN: $m" "$log" || missing+=("$m")
  done
fi
# The linux guest's screenshot (scenario.sh linux_screenshot): out of the serial log into
# OUT/linux-screen.png, then its pixels checked here, where a PNG decoder is.
if [[ $linux -eq 1 ]] && grep -a -q '^REALXEN-PNG-BEGIN' "$log"; then
  tr -d '\r' <"$log" | sed -n '/^REALXEN-PNG-BEGIN/,/^REALXEN-PNG-END/p' | grep -E '^[A-Za-z0-9+/=]+$' |
    base64 -d >"$out/linux-screen.png" 2>/dev/null || true
  if shot=$(/usr/bin/python3 "$here/check-screen.py" "$out/linux-screen.png" 2>&1); then
    echo "realxen: linux screenshot $out/linux-screen.png: $shot"
  else
    echo "realxen: FAIL linux screenshot $out/linux-screen.png: $shot"; missing+=('linux screenshot pixels')
  fi
fi
if grep -a -q '^REALXEN: stubdomd not installed' "$log"; then
  echo "realxen: NOTE: stubdomd is not installed by this build: stage 2 (stubdomd on real Xen) was SKIPPED"
fi
if grep -a -q '^REALXEN: INFO .* was rebooted' "$log"; then
  echo "realxen: NOTE: the linux stage's guest did not boot the first time; its line came from a later boot: $(grep -a -m1 '^REALXEN: INFO .* was rebooted' "$log" | tr -d '\r')"
fi
# The linux guest's first boot died with Xen's own state in its VMCB (scenario.sh,
# first_boot_died): check on this side, in the very xen.elf that ran, that the rip Xen found
# follows a VMRUN (0f 01 d8) -- the address the emulated CPU's VMRUN saved as the host's
# return point. Xen 4.17 x86 is linked at XEN_VIRT_START 0xffff82d040000000; xen.elf is
# the ELF32 multiboot image, its first program header maps the text.
after_vmrun() { # RIP (hex, no 0x) -> 0 when the 3 bytes before it in xen.elf are VMRUN
  local elf=$out/xen.elf phoff p_offset p_vaddr off
  phoff=$(od -An -tu4 -j 28 -N 4 "$elf" | tr -d ' ')
  p_offset=$(od -An -tu4 -j $((phoff + 4)) -N 4 "$elf" | tr -d ' ')
  p_vaddr=$(od -An -tu4 -j $((phoff + 8)) -N 4 "$elf" | tr -d ' ')
  off=$(( 0x$1 - 0xffff82d040000000 - p_vaddr + p_offset - 3 ))
  [[ $off -gt 0 ]] && [[ "$(od -An -tx1 -j $off -N 3 "$elf" | tr -d ' ')" == 0f01d8 ]]
}
rip=$(grep -a -o -E "^REALXEN: INFO rxlinux was rebooted .*cs:rip e008:[0-9a-f]+" "$log" | sed 's/.*e008://' | head -n 1 || true)
if [[ -n "$rip" ]]; then
  if after_vmrun "$rip"; then
    echo "realxen: NOTE: the linux guest's first boot died of the host's CPU emulation: the rip Xen found in the guest's VMCB, $rip, is the instruction after a VMRUN in this xen.elf, i.e. the host state the emulated VMRUN saved (${REALXEN_QEMU:-qemu-system-x86_64}: $(${REALXEN_QEMU:-qemu-system-x86_64} --version | head -n 1))"
  else
    echo "realxen: NOTE: the linux guest's first boot died with Xen's cs in its VMCB, but rip $rip does not follow a VMRUN in xen.elf"
  fi
fi
if [[ $boot_rc -eq 0 && ${#missing[@]} -eq 0 ]] && ! grep -a -q '^REALXEN: FAIL' "$log"; then
  echo "realxen: PASS (serial log: $log)"
  exit 0
fi
echo "realxen: FAIL (boot.sh status $boot_rc; missing markers: ${missing[*]:-none})"
echo "---- relevant lines of $log ----"
grep -a -n -E 'REALXEN|STUBDM|FAKE|AWAITDM|libxl: error|xl: |\(XEN\).*(Panic|crash|FATAL|Assertion)|Kernel panic|BUG|Oops|\[stubdomd\]|Error|error:' "$log" | tail -n 80
echo "---- last 40 lines ----"
tail -n 40 "$log"
exit 1
