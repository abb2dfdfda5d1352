// Start's and Restart's stub-memory over the stub config's: what a spawn is given.
#pragma once

#include "Registry.hpp"
#include "StubSpec.hpp"

namespace stubdomd {

// The guest's stub config with Start's stub-memory, if one was given.
StubSpec specToSpawn(const EngineGuest& guest);

} // namespace stubdomd
