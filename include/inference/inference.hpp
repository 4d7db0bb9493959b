// inference/inference.hpp — the whole public contract in one include.
#pragma once

#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "inference/context.hpp"
#include "inference/discovery.hpp"
#include "inference/error.hpp"
#include "inference/log.hpp"
#include "inference/text_model.hpp"
#include "inference/token_stream.hpp"
#include "inference/trainable_model.hpp"
#include "inference/types.hpp"
#include "inference/version.hpp"
