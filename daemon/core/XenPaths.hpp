// The xenstore paths of DESIGN.md section 4, in one place.
#pragma once

#include "Types.hpp"

#include <string>

namespace stubdomd::paths {

inline std::string domain(DomId d) {
    return "/local/domain/" + std::to_string(d);
}
inline std::string name(DomId d) {
    return domain(d) + "/name";
}
inline std::string vm(DomId d) {
    return domain(d) + "/vm";
}
inline std::string target(DomId d) {
    return domain(d) + "/target";
}
inline std::string image(DomId g) {
    return domain(g) + "/image";
}
inline std::string deviceModelDomid(DomId g) {
    return image(g) + "/device-model-domid";
}
inline std::string deviceModelPid(DomId g) {
    return image(g) + "/device-model-pid";
}
// Where the stub domain's device model reports its state (s owns it).
inline std::string stubDeviceModel(DomId s, DomId g) {
    return domain(s) + "/device-model/" + std::to_string(g);
}
// The legacy dom0 path that qemu-traditional and the toolstack's wait use.
inline std::string legacyDeviceModel(DomId g) {
    return "/local/domain/0/device-model/" + std::to_string(g);
}
// The pty xenconsoled made for a domain's console 0 (dom0-owned; empty until then).
inline std::string consoleTty(DomId d) {
    return domain(d) + "/console/tty";
}
inline std::string vncPort(DomId s) {
    return domain(s) + "/console/vnc-port";
}
inline std::string vmImage(const std::string& uuid) {
    return "/vm/" + uuid + "/image";
}
inline std::string dmargs(const std::string& uuid) {
    return vmImage(uuid) + "/dmargs";
}
// The Linux stub's qemu arguments, one per key: dm-argv/001, dm-argv/002, ...
inline std::string dmArgv(const std::string& uuid) {
    return vmImage(uuid) + "/dm-argv";
}
// What libxl records of a guest's memory (KiB, dom0-owned): max_memkb and video_memkb.
inline std::string memoryStaticMax(DomId g) {
    return domain(g) + "/memory/static-max";
}
inline std::string memoryVideoram(DomId g) {
    return domain(g) + "/memory/videoram";
}
// A PV guest's kernel as libxl records it (libxl__domain_build); for a PV-GRUB guest,
// the PV-GRUB image.
inline std::string vmImageKernel(const std::string& uuid) {
    return vmImage(uuid) + "/kernel";
}

inline constexpr const char* kIntroduceDomain = "@introduceDomain";
inline constexpr const char* kReleaseDomain = "@releaseDomain";

} // namespace stubdomd::paths
