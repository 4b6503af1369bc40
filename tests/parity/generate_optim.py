#!/usr/bin/python3
"""Writes the optimizer parity fixtures that tests/parity/test_optim_parity.cpp compares against.

Run with Debian's python3 (it has torch):  /usr/bin/python3 tests/parity/generate_optim.py

For each configuration below, torch.optim (single-tensor path, foreach=False) starts from small
fixed parameters and takes 3 steps with fixed gradients. One .safetensors file per configuration
holds, written by hand in the format of core/safetensors.hpp (the `safetensors` package is not
installed here):

  <p>.init              the parameter before the first step
  <p>.grad.<k>          its gradient at step k = 1, 2, 3 (absent: no gradient at that step)
  <p>.step.<k>          the parameter after step k
  final.state.<i>.<b>   torch's state buffer b of parameter i after step 3 (exp_avg, ...)
  metadata              the options, with the key names of our optimizers' state_dict():
                        optimizer, param_groups, param_groups.<g>.num_params, .lr, ...;
                        param_groups.<g>.params lists the group's parameter names;
                        final.state.<i>.step torch's step count

The C++ test needs neither Python nor torch: only these committed files.
"""
import os

import torch

from safetensors_writer import write_safetensors

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
STEPS = 3


def number(x):
    """A float as our format_number writes it: the shortest text that reads back exactly."""
    return repr(float(x))


# name -> (torch optimizer class, groups: [(param names, options)], steps where "b" gets no gradient)
CONFIGS = {
    "sgd_momentum": (torch.optim.SGD, [(["w", "b"], dict(lr=0.1, momentum=0.9))], []),
    "sgd_nesterov": (torch.optim.SGD, [(["w", "b"], dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))], []),
    "sgd_weight_decay": (torch.optim.SGD,
                         [(["w", "b"], dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1))], []),
    "adam": (torch.optim.Adam, [(["w", "b"], dict(lr=0.01))], []),
    "adam_amsgrad_weight_decay": (torch.optim.Adam,
                                  [(["w", "b"], dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1,
                                                     amsgrad=True))], []),
    "adamw": (torch.optim.AdamW, [(["w", "b"], dict(lr=0.01, weight_decay=0.1))], []),
    "adamw_groups": (torch.optim.AdamW,
                     [(["w"], dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
                      (["b"], dict(lr=0.05, weight_decay=0.0))], [2]),
}


def options_metadata(kind, g, opts):
    """The group's options, complete (torch's defaults filled in), as our state_dict() names them."""
    p = f"param_groups.{g}."
    if kind is torch.optim.SGD:
        return {p + "lr": number(opts["lr"]), p + "momentum": number(opts.get("momentum", 0)),
                p + "dampening": number(opts.get("dampening", 0)),
                p + "weight_decay": number(opts.get("weight_decay", 0)),
                p + "nesterov": "true" if opts.get("nesterov", False) else "false"}
    betas = opts.get("betas", (0.9, 0.999))
    default_wd = 1e-2 if kind is torch.optim.AdamW else 0.0
    return {p + "lr": number(opts["lr"]), p + "beta1": number(betas[0]), p + "beta2": number(betas[1]),
            p + "eps": number(opts.get("eps", 1e-8)), p + "weight_decay": number(opts.get("weight_decay", default_wd)),
            p + "amsgrad": "true" if opts.get("amsgrad", False) else "false"}


def generate(name, kind, groups, b_skips):
    gen = torch.Generator().manual_seed(1234)
    shapes = {"w": (3, 4), "b": (4,)}
    params = {n: torch.randn(shapes[n], generator=gen).requires_grad_() for n in ("w", "b")}
    tensors = {f"{n}.init": p.detach().clone() for n, p in params.items()}

    torch_groups = [dict(params=[params[n] for n in names], **opts) for names, opts in groups]
    opt = kind(torch_groups, foreach=False)  # the single-tensor formulas

    for k in range(1, STEPS + 1):
        for n, p in params.items():
            if n == "b" and k in b_skips:
                p.grad = None  # torch skips it; so must we
                continue
            p.grad = torch.randn(shapes[n], generator=gen)
            tensors[f"{n}.grad.{k}"] = p.grad.clone()
        opt.step()
        for n, p in params.items():
            tensors[f"{n}.step.{k}"] = p.detach().clone()

    metadata = {"optimizer": kind.__name__, "param_groups": str(len(groups)), "torch": torch.__version__}
    index = 0
    for g, (names, opts) in enumerate(groups):
        metadata[f"param_groups.{g}.num_params"] = str(len(names))
        metadata[f"param_groups.{g}.params"] = ",".join(names)
        metadata.update(options_metadata(kind, g, opts))
        for n in names:
            for buf, value in opt.state[params[n]].items():
                if buf == "step":
                    metadata[f"final.state.{index}.step"] = str(int(value))
                elif value is not None:
                    tensors[f"final.state.{index}.{buf}"] = value.clone()
            index += 1

    path = os.path.join(HERE, f"optim_{name}.safetensors")
    write_safetensors(path, tensors, metadata)
    return path


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, (kind, groups, b_skips) in CONFIGS.items():
        path = generate(name, kind, groups, b_skips)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
