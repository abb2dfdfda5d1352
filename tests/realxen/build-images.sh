#!/usr/bin/env bash
# Builds what the realxen test boots, from the installed Debian packages:
#   OUT/xen.elf      Debian's Xen 4.17 hypervisor, uncompressed (QEMU's multiboot loader takes it)
#   OUT/vmlinuz      Debian's kernel (dom0 and, inside the dom0 initramfs, the stub domain's)
#   OUT/dom0.cpio    the dom0 initramfs: busybox, the Xen userspace and its libraries, the Xen
#                    kernel modules, dbus-daemon + busctl, the project's Debian packages from
#                    DEBS installed by dpkg, the stub domain's kernel + initramfs, the scenario
#   OUT/stub.cpio    the stub domain's initramfs (also inside dom0.cpio)
# Usage: build-images.sh --out DIR [--debs DIR] [--link-helper PATH]
#   --debs DIR  scripts/build-debs's output: stubdomd and libstubdom-client0 are installed
#               (and stubdom-mkimage, for the linux stage); without it dom0 has no stubdomd
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

out= debs= link_helper=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift ;;
    --debs) debs=$2; shift ;;
    --link-helper) link_helper=$2; shift ;;
    *) echo "build-images: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$out" ]] || { echo "build-images: --out DIR is required" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

XEN_GZ=${REALXEN_XEN:-/boot/xen-4.17-amd64.gz}
KERNEL=${REALXEN_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)}
KVER=${KERNEL##*/vmlinuz-}
XENLIB=/usr/lib/xen-4.17
BUSYBOX=$(command -v busybox || echo /bin/busybox)

# Map a host path into the image's merged-/usr layout (/lib, /bin, /sbin, /lib64 -> /usr/...).
norm() {
  case "$1" in
    /lib/*|/lib64/*|/bin/*|/sbin/*) echo "/usr$1" ;;
    *) echo "$1" ;;
  esac
}

skeleton() { # ROOT
  local r=$1
  rm -rf "$r"
  mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,run,tmp,etc,root,var/lib,var/log}
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  ln -s ../run "$r/var/run"
  install -m 755 "$BUSYBOX" "$r/usr/bin/busybox"
}

# Busybox applets for whatever the image does not have as a real binary (run last).
busybox_links() { # ROOT
  local r=$1 a
  for a in $("$BUSYBOX" --list-full); do
    a=$(norm "/$a")
    [[ -e "$r$a" || -L "$r$a" ]] && continue
    mkdir -p "$r$(dirname "$a")"
    ln -s /usr/bin/busybox "$r$a"
  done
}

add_file() { # ROOT SRC [DST]
  local r=$1 src=$2 dst=${3:-$(norm "$2")}
  [[ -e "$r$dst" ]] && return 0
  mkdir -p "$r$(dirname "$dst")"
  cp -L --preserve=mode "$src" "$r$dst"
}

add_libs() { # ROOT ELF  (its ldd libraries; LD_LIBRARY_PATH may point into ROOT)
  local r=$1 f=$2 lib
  for lib in $(ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'); do
    case "$lib" in "$r"/*) continue ;; esac  # in the image already (a package's library)
    add_file "$r" "$lib"
  done
}

add_bin() { # ROOT SRC [DST]
  add_file "$@"
  add_libs "$1" "$2"
}

mkcpio() { # ROOT FILE
  (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$2"
}

# The kernel's ELF image, unpacked from the bzImage (Debian's is xz): Xen's dom0 builder and
# libxc's domain builder take it as is, which spares them the decompression under TCG
# (the stub's `xl create` takes ~3x longer with the bzImage). Empty if it cannot be unpacked.
extract_vmlinux() { # BZIMAGE OUT
  local magic off unpack
  for magic in '\xfd7zXZ\x00:xz -dc' '\x1f\x8b\x08:gzip -dc' '\x28\xb5\x2f\xfd:zstd -qdc'; do
    unpack=${magic#*:}
    command -v "${unpack%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -aboP "${magic%%:*}" "$1" | cut -d: -f1); do
      tail -c +$((off + 1)) "$1" | $unpack >"$2" 2>/dev/null
      [[ "$(head -c4 "$2" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]] && return 0
    done
  done
  rm -f "$2"
  return 1
}
vmlinux=$out/vmlinux
if [[ "${REALXEN_BZIMAGE:-0}" == 1 ]] || ! extract_vmlinux "$KERNEL" "$vmlinux"; then
  vmlinux=$KERNEL
fi

# --- the stub domain's initramfs -------------------------------------------------------------
stub=$out/stub-root
skeleton "$stub"
install -m 755 "$here/stub-init" "$stub/init"
add_bin "$stub" /usr/bin/xenstore
for t in read write ls list exists rm chmod watch; do ln -s xenstore "$stub/usr/bin/xenstore-$t"; done
busybox_links "$stub"
mkcpio "$stub" "$out/stub.cpio"

# --- the dom0 initramfs ---------------------------------------------------------------------
root=$out/dom0-root
skeleton "$root"
install -m 755 "$here/dom0-init" "$root/init"

# Xen userspace
# vchan-socket-proxy: stubdomd runs it in dom0 as the QMP proxy of a Linux stub domain
for b in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper xenstore-control vchan-socket-proxy; do
  add_bin "$root" "$XENLIB/bin/$b"
done
ln -s ../lib/xen-4.17/bin/xl "$root/usr/sbin/xl"
add_bin "$root" /usr/bin/xenstore
for t in read write ls list exists rm chmod watch; do ln -s xenstore "$root/usr/bin/xenstore-$t"; done
add_file "$root" "$XENLIB/boot/hvmloader"
# glibc dlopens libgcc_s for pthread_cancel (xl aborts at exit without it)
add_file "$root" /lib/x86_64-linux-gnu/libgcc_s.so.1
mkdir -p "$root/usr/lib/xen/bin" "$root/usr/lib/xen/boot"
add_file "$root" /etc/xen/xl.conf
cp -a /etc/xen/scripts "$root/etc/xen/scripts"
[[ -f /usr/share/seabios/bios-256k.bin ]] && add_file "$root" /usr/share/seabios/bios-256k.bin
mkdir -p "$root"/var/lib/xen "$root"/var/lib/xenstored "$root"/var/log/xen/console

# Xen kernel modules, dependencies first
mkdir -p "$root/modules"
declare -A seen=()
add_module() {
  local m=$1 d f
  [[ -n "${seen[$m]:-}" ]] && return 0
  seen[$m]=1
  for d in $(modinfo -k "$KVER" -F depends "$m" | tr ',' ' '); do add_module "$d"; done
  f=$(modinfo -k "$KVER" -F filename "$m")
  case "$f" in
    *.ko) cp "$f" "$root/modules/" ;;
    *.ko.xz) xz -dc "$f" >"$root/modules/$(basename "${f%.xz}")" ;;
    *.ko.zst) zstd -qdc "$f" >"$root/modules/$(basename "${f%.zst}")" ;;
    *) echo "build-images: cannot use module file '$f'" >&2; exit 1 ;;
  esac
  echo "$(basename "${f%.ko*}").ko" >>"$root/modules/order"
}
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do add_module "$m"; done
# the linux stage's boot disk reaches the stub domain as a vbd: blkback on a loop device
for m in loop xen-blkback; do add_module "$m"; done

# D-Bus: a system bus with a system.conf-like default policy that includes the project's policy
add_bin "$root" "$(command -v dbus-daemon)"
add_bin "$root" "$(command -v busctl)"
mkdir -p "$root/etc/dbus-1" "$root/usr/share/dbus-1/system.d" "$root/etc/dbus-1/system.d"
install -m 644 "$here/dbus-system.conf" "$root/etc/dbus-1/realxen-system.conf"
cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
messagebus:x:100:101::/nonexistent:/bin/false
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
messagebus:x:101:
GR
echo 'passwd: files' >"$root/etc/nsswitch.conf"; echo 'group: files' >>"$root/etc/nsswitch.conf"
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"; echo >>"$root/etc/machine-id"

# The realxen pieces: scenario, stub kernel + initramfs, fake device model, link helper
mkdir -p "$root/realxen/bin" "$root/realxen/stub"
install -m 755 "$here/scenario.sh" "$root/realxen/scenario.sh"
for f in fake-dm shell-stubdom-dm await-dm; do install -m 755 "$here/$f" "$root/realxen/bin/$f"; done
cp "$vmlinux" "$root/realxen/stub/vmlinuz"
cp "$out/stub.cpio" "$root/realxen/stub/initrd"
if [[ -n "$link_helper" ]]; then
  add_bin "$root" "$link_helper" /realxen/bin/realxen-link
  qmp_helper=$(dirname "$link_helper")/realxen-qmp
  [[ -x "$qmp_helper" ]] && add_bin "$root" "$qmp_helper" /realxen/bin/realxen-qmp
fi

# The project, as an administrator installs it: its Debian packages (scripts/build-debs),
# installed by dpkg into the image's root with their maintainer scripts run chrooted there.
# The image's own dpkg database starts empty: everything else in it is copied from this
# machine's files (ldd above), not installed from packages, so the packages' dependencies
# are met but unknown to dpkg (--force-depends). The postinst finds no systemd and no
# deb-systemd-helper in dom0 and enables nothing, as on a dom0 without systemd.
if [[ -n "$debs" ]]; then
  pkgs=(stubdomd libstubdom-client0)
  [[ "${REALXEN_LINUX:-0}" == 1 ]] && pkgs+=(stubdom-mkimage)
  files=()
  for p in "${pkgs[@]}"; do
    f=$(compgen -G "$debs/${p}_*.deb" | sort -V | tail -n1) ||
      { echo "build-images: no ${p}_*.deb in $debs (scripts/build-debs)" >&2; exit 1; }
    files+=("$f")
  done
  mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers}
  : >"$root/var/lib/dpkg/status"
  : >"$root/var/lib/dpkg/available"
  # the maintainer scripts' shell (the other applets are linked below)
  ln -sf busybox "$root/usr/bin/sh"
  dpkg --root="$root" --force-depends -i "${files[@]}" >"$out/dpkg.log" 2>&1 || {
    cat "$out/dpkg.log" >&2; echo "build-images: dpkg -i into dom0's root failed" >&2; exit 1; }
  grep -E '^(Setting up|Unpacking) ' "$out/dpkg.log" | sed 's/^/build-images: dpkg: /'
  # the libraries the packages' programs need, from this machine (as for the Xen tools)
  while IFS= read -r f; do
    [[ -f "$root$f" && ! -L "$root$f" ]] || continue
    head -c4 "$root$f" | grep -q 'ELF' || continue
    LD_LIBRARY_PATH=$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH) add_libs "$root" "$root$f"
  done < <(cat "$root"/var/lib/dpkg/info/*.list)
fi

# The linux stage: the project's own Linux stub-domain rootfs (stubdom-mkimage, from this
# machine's packages; its kernel is the unpacked one above), a boot disk for the HVM guest,
# and bash and util-linux's flock for Xen's block hotplug script (phy: disks; its locking.sh
# runs `flock`, which Debian's busybox lacks: "flock: command not found", the script exits 1
# and libxl fails the stub's xl create). Only when asked (REALXEN_LINUX=1):
# it adds ~30 s of image build and ~15 MiB to dom0's initramfs.
# The guest's boot disk is also inside the stub's rootfs, given to QEMU by the image's
# /etc/stubdom/qemu-args: under TCG the block hotplug script alone took over libxl's 40 s
# hotplug limit (run 3 of the issue-16 note), so the stage itself uses no phy: disk; the
# loop device stays for realxen.linuxprobe=1.
if [[ "${REALXEN_LINUX:-0}" == 1 ]]; then
  mkdir -p "$root/realxen/linux"
  "$here/make-boot-disk" "$root/realxen/linux/boot.img"
  printf '%s\n' -drive file=/realxen-boot.img,if=ide,index=0,media=disk,format=raw >"$out/qemu-args"
  # the packaged builder, with its packaged /init, run on this machine's packages
  [[ -x "$root/usr/sbin/stubdom-mkimage" ]] ||
    { echo "build-images: the linux stage needs stubdom-mkimage installed from --debs" >&2; exit 1; }
  "$root/usr/sbin/stubdom-mkimage" --init "$root/usr/lib/stubdomd/stubimage/init" \
    --add "$root/realxen/linux/boot.img:/realxen-boot.img" --add "$out/qemu-args:/etc/stubdom/qemu-args" \
    --kernel-out "$out/linux-kernel.unused" --rootfs-out "$root/realxen/linux/rootfs" |
    sed 's/^/build-images: /'
  rm -f "$out/linux-kernel.unused" "$out/qemu-args"
  add_bin "$root" /bin/bash
  add_bin "$root" "$(command -v flock)"
fi

busybox_links "$root"
mkcpio "$root" "$out/dom0.cpio"

# Hypervisor and kernel for QEMU
zcat "$XEN_GZ" >"$out/xen.elf"
[[ "$vmlinux" == "$out/vmlinux" ]] && mv "$vmlinux" "$out/vmlinuz" || cp "$KERNEL" "$out/vmlinuz"
rm -rf "$stub" "$root"
echo "build-images: $(du -h "$out/dom0.cpio" | cut -f1) dom0 initramfs, $(du -h "$out/stub.cpio" | cut -f1) stub initramfs, kernel $KVER ($(file -b "$out/vmlinuz" | cut -d, -f1))"
