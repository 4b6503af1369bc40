// attograd.hpp: everything, in one include. Reading order: core/ (tensor, autograd, gradcheck),
// then ops/ (one file per op family), nn/, optim/.
#pragma once

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "core/gradcheck.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "ops/binary.hpp"
#include "ops/cross_entropy.hpp"
#include "ops/dropout.hpp"
#include "ops/embedding.hpp"
#include "ops/gemm.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape_ops.hpp"
#include "ops/softmax.hpp"
#include "ops/unary.hpp"
#include "ops/where.hpp"
