// Start's and Restart's stub-memory over the stub config's: what a spawn is given.
#pragma once

#include "Registry.hpp"
#include "StubSpec.hpp"
#include "config/Settings.hpp"

namespace stubdomd {

// The guest's stub config with Start's stub-memory, if one was given.
StubSpec specToSpawn(const EngineGuest& guest);

// Start's or Restart's stub-memory, checked against the flavour's minimum (InvalidArgs),
// kept for the guest's next stubs and shown.
void useStubMemory(Registry& registry, const Settings& settings, EngineGuest& guest,
                   const StartOptions& options);
// The StubMemoryMiB property for the next stub (the pipeline sets the current one's).
void showStubMemory(Registry& registry, const Settings& settings, EngineGuest& guest);

} // namespace stubdomd
