// libstubdom-client: include this one header.
#pragma once

#include "stubdom-client/Client.hpp"
#include "stubdom-client/Errors.hpp"
#include "stubdom-client/Types.hpp"
